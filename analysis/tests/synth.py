"""Write synthetic result files in the exact layout of docs/results-format.md (format v1).

Tests state the tokens/s they want per (variant, batch) and derive every expectation from those
inputs, so no expected output is typed by hand.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np


def samples(tokens_per_s: float, reps: int, spread: float) -> np.ndarray:
    """`reps` values spread symmetrically around tokens_per_s, so their median is tokens_per_s."""
    offsets = np.arange(reps) - (reps - 1) / 2
    return tokens_per_s * (1 + spread * offsets / max(reps, 1))


def write_result(path, cells, *, model="llama-3-70b", tp=8, reps=5, spread=0.02, prompt_len=1024,
                 gen_len=512, complete=True, env=None, link_latency_us=None, link_bandwidth_gbps=0.0,
                 device="NVIDIA H100 80GB HBM3", dtype="bf16", breakdown=None, fixed_strings=False,
                 model_config=None, roofline=None, prefill_fraction=0.1, eval_nll=None) -> Path:
    """One result file with a run per entry of `cells` = {(variant, batch): tokens_per_s}.

    env: dict stored as the (not yet specified) root attribute `env`; link_latency_us: emulate a
    link; breakdown: {component: fraction of the generation time} written as breakdown_<component>;
    fixed_strings: store strings as fixed-length ASCII instead of h5py's variable-length UTF-8.
    model_config: the config.json dict (default a 2-layer stub); roofline: {"triad": B/s, "gemm": FLOP/s,
    "table": [[m, n, k, decode, seconds], ...], "step": {(batch, prompt_len, gen_len): (rows like table,
    all-reduce hand-off seconds, its bytes[, [[kernel, decode, rows, keys, seconds], ...][, the wait
    after the hand-off, seconds[, rank skew per sync after a module, after a layer[, the wait through
    the emulated link]]]])}} stored as
    --roofline does (the cells' calibrations as /roofline/step/c*); prefill_fraction: the share of
    each generation's time that is prefill; eval_nll: {variant: mean NLL} written as --eval-tokens
    does (the run's group `eval`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (lambda s: np.bytes_(s.encode())) if fixed_strings else str
    with h5py.File(path, "w") as h5:
        root = h5.attrs
        root["format"] = text("ladderbench")
        root["format_version"] = np.int64(1)
        root["complete"] = np.int64(1 if complete else 0)
        root["created_utc"] = text("2025-01-01T00:00:00Z")
        root["finished_utc"] = text("2025-01-01T01:00:00Z" if complete else "")
        root["git_sha"] = text("0123456789abcdef0123456789abcdef01234567")
        root["git_dirty"] = np.int64(0)
        root["argv"] = text(f"ladder-bench --model {model} --tp {tp}")
        root["world_size"] = np.int64(tp)
        root.create("hostnames", data=[f"node{r // 8}" for r in range(tp)], dtype=h5py.string_dtype())
        root["backend"] = text("nccl" if device != "cpu" else "mpi")
        root["device"] = text(device)
        root["link_emulated"] = np.int64(0 if link_latency_us is None else 1)
        root["link_latency_us"] = np.float64(link_latency_us or 0.0)
        root["link_bandwidth_gbps"] = np.float64(link_bandwidth_gbps)
        root["model"] = text(model)
        root["model_config"] = text(json.dumps(model_config or {"num_hidden_layers": 2, "hidden_size": 64}))
        if roofline is not None:
            if "read" in roofline:
                root["roofline_stream_read_Bps"] = np.float64(roofline["read"])
            root["roofline_stream_triad_Bps"] = np.float64(roofline["triad"])
            root["roofline_gemm_flops"] = np.float64(roofline["gemm"])
            rows = np.asarray(roofline.get("table", []), dtype=np.float64).reshape(-1, 5)
            g = h5.create_group("roofline/gemm")
            for i, name in enumerate(("m", "n", "k", "decode")):
                g[name] = rows[:, i].astype(np.int64)
            g["time_s"] = rows[:, 4]
            for c, ((batch, prompt, gen), (step_rows, start_s, nbytes, *more)) in enumerate(
                    roofline.get("step", {}).items()):
                rows = np.asarray(step_rows, dtype=np.float64).reshape(-1, 5)
                g = h5.create_group(f"roofline/step/c{c:04d}")
                for name, value in (("batch", batch), ("prompt_len", prompt), ("gen_len", gen), ("rounds", 3),
                                    ("allreduce_bytes", nbytes)):
                    g.attrs[name] = np.int64(value)
                g.attrs["allreduce_start_s"] = np.float64(start_s)
                kernels, *seconds = more + [[], None, None, None, None, None, None][len(more):]
                for name, value in zip(("allreduce_wait_s", "rank_skew_module_s", "rank_skew_layer_s",
                                        "allreduce_wait_link_s", "allreduce_start_overlapped_s",
                                        "allreduce_stretch_overlapped_s"), seconds):
                    if value is not None:
                        g.attrs[name] = np.float64(value)
                for i, name in enumerate(("m", "n", "k", "decode")):
                    g[name] = rows[:, i].astype(np.int64)
                g["time_s"] = rows[:, 4]
                for name, decode, kernel_rows, keys, seconds in kernels:
                    k = g.create_group(f"kernel/{'decode' if decode else 'prefill'}/{name}")
                    k.attrs["rows"], k.attrs["calls"] = np.int64(kernel_rows), np.int64(2)
                    if keys:
                        k.attrs["keys"] = np.int64(keys)
                    k.attrs["time_s"] = k.attrs["time_best_s"] = np.float64(seconds)
        root["weights"] = text("random")
        root["seed"] = np.int64(1234)
        root["versions"] = text(json.dumps({"MPI": "4.1", "HDF5": "1.12"}))
        if env is not None:
            root["env"] = text(json.dumps(env))

        for i, ((variant, batch), tokens_per_s) in enumerate(cells.items()):
            run = h5.create_group(f"runs/r{i:04d}")
            for name, value in dict(variant=text(variant), dtype=text(dtype), model=text(model)).items():
                run.attrs[name] = value
            for name, value in dict(batch=batch, prompt_len=prompt_len, gen_len=gen_len, tp=tp,
                                    warmup=5, reps=reps).items():
                run.attrs[name] = np.int64(value)
            tps = samples(tokens_per_s, reps, spread)
            total = batch * gen_len / tps
            run["prefill_s"] = prefill_fraction * total
            run["decode_s"] = total - prefill_fraction * total
            run["tokens_per_s"] = tps
            run["decode_step_s"] = np.repeat(((1 - prefill_fraction) * total / max(gen_len - 1, 1))[:, None],
                                             gen_len - 1, axis=1)
            run["prompt"] = np.zeros((batch, prompt_len), dtype=np.int32)
            run["tokens"] = np.zeros((batch, gen_len), dtype=np.int32)
            for component, fraction in (breakdown or {}).items():
                run[f"breakdown_{component}"] = fraction * total
            if eval_nll and variant in eval_nll:
                quality = run.create_group("eval")
                quality.attrs.update(tokens_file=text("stream.npy"), window=np.int64(prompt_len), windows=np.int64(4),
                                     scored_tokens=np.int64(4 * (prompt_len - 1)), unused_tokens=np.int64(0),
                                     nll_mean=eval_nll[variant], perplexity=np.exp(eval_nll[variant]))
    return path


def write_allreduce(path, *, ranks=2, sizes=(4096, 65536, 1048576), time_s=(1e-4, 1.2e-4, 4e-4), overlap_pct=None,
                    link_latency_us=None, start_s=None) -> Path:
    """A ladder-allreduce file: blocking p50 time per size (and with start_s the part inside
    start_allreduce); with overlap_pct also the async mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as h5:
        root = h5.attrs
        root["format"] = "ladderbench"
        root["format_version"] = np.int64(1)
        root["kind"] = "allreduce"
        root["complete"] = np.int64(1)
        root["world_size"] = np.int64(ranks)
        root["cpu_model"] = "synthetic"
        root["link_emulated"] = np.int64(0 if link_latency_us is None else 1)
        root["link_latency_us"] = np.float64(link_latency_us or 0.0)
        root["link_bandwidth_gbps"] = np.float64(0.0)
        h5.create_group("runs")
        modes = {"blocking": None} if overlap_pct is None else {"blocking": None, "async": overlap_pct}
        for mode, overlap in modes.items():
            g = h5.create_group(f"allreduce/{mode}")
            g["bytes"] = np.asarray(sizes, dtype=np.int64)
            g["time_p50_s"] = np.asarray(time_s, dtype=np.float64)
            if mode == "blocking" and start_s is not None:
                g["start_p50_s"] = np.asarray(start_s, dtype=np.float64)
            if overlap is not None:
                g["overlap_pct"] = np.asarray(overlap, dtype=np.float64)
    return path
