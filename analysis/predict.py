"""`python -m analysis predict`: the performance model's predictions, next to measured cells
(`--check`) or to the paper's published ones (`--reference`), and the predicted columns of
`table`, `compare` and `plot`.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .calibrate import (file_kind, find_allreduce_files, machine_from_results, step_calibrations,
                        with_step_calibration, world_size_of)
from .load import find_result_files
from .cells import BASELINE, CELL_KEYS, link_latency_us, ordered_variants
from .errors import AnalysisError, AnalysisWarning
from .perfmodel import DTYPE_BYTES, IN_STEP, VARIANTS, Machine, Shape, Workload, predict
from .render import MISSING, Table, number, ratio
from .tables import setting_columns, speedup_with_interval

# Acceptance of the latency sweep (issue 17): tokens/s within 15 %, speedup within 0.05.
TOKENS_TOLERANCE = 0.15
SPEEDUP_TOLERANCE = 0.05
PREDICTED_COLUMNS = ["predicted_tokens_per_s", "predicted_speedup", "predicted_prefill_s", "predicted_step_ms",
                     "predicted_compute_ms", "predicted_stretch_ms", "predicted_handoff_ms", "predicted_wait_ms",
                     "calibration", "calibration_bw"]


# --------------------------------------------------------------------------------------------
# Plain predictions


def prediction_table(workloads: list[Workload], machine: Machine, variants) -> Table:
    rows = []
    for w in workloads:
        for p in predict(w, machine, variants):
            rows.append({
                "model": w.shape.name, "tp": w.tp, "batch": w.batch, "prompt_len": w.prompt_len,
                "gen_len": w.gen_len, "p2p": w.p2p, "link_us": w.link_latency_us, "variant": p.variant,
                "prefill_ms": 1e3 * p.prefill_s, "step_ms": 1e3 * p.step_s, "attention_ms": p.attention_ms,
                "mlp_ms": p.mlp_ms, "interference_ms": p.stretch_ms, "handoff_ms": p.handoff_ms,
                "exposed_comm_ms": p.wait_ms,
                "comm_ms": p.comm_ms, "allreduce_us": p.allreduce_us, "link_delay_us": p.link_us,
                "tokens_per_s": p.tokens_per_s, "speedup": p.speedup})
    data = pd.DataFrame(rows)
    keys = ["model", "tp", "batch", "prompt_len", "gen_len", "p2p", "link_us"]
    shown = [k for k in keys if data[k].nunique() > 1 or k in ("model", "tp", "batch")]
    display = data[shown + ["variant"]].copy()
    for col, label in (("prefill_ms", "prefill ms"), ("step_ms", "decode ms/step"),
                       ("attention_ms", "attention ms/step"), ("mlp_ms", "MLP ms/step"),
                       ("interference_ms", "interference ms/step"), ("handoff_ms", "hand-off ms/step"),
                       ("exposed_comm_ms", "exposed comm ms/step"),
                       ("comm_ms", "all comm ms/step"), ("tokens_per_s", "tok/s")):
        display[label] = data[col].map(number)
    display["speedup"] = data["speedup"].map(ratio)
    const = [k for k in keys if k not in shown]
    notes = [f"Predicted by the performance model on machine `{machine.name}`"
             + (f" ({machine.description})" if machine.description else "") + " (docs/measurement.md). "
             "Per decode step (mean over the generation): each module kind's compute, the compute lost to "
             "overlapped all-reduces (interference, including the progress thread's share of the hand-off), "
             "the compute thread's time in the start_allreduce call, the communication the schedule leaves "
             "exposed, and all communication "
             "(hand-off + real all-reduce + emulated link), exposed or not.",
             "Same in every row: " + ", ".join(f"{k}={data[k].iloc[0]}" for k in const) + "." if const else ""]
    return Table(data, display, shown + ["variant"], [n for n in notes if n])


# --------------------------------------------------------------------------------------------
# Predictions for measured cells


def _wire_bytes(attr, weight_bytes: int) -> int:
    text = str(attr or "fp32")
    return 2 if text in ("bf16", "fp16") else 4


def workload_of(row: dict) -> Workload:
    """The Workload of a measured cell, from a sample row (run and root attributes)."""
    try:
        config = json.loads(row.get("model_config") or "{}")
    except (TypeError, ValueError):
        config = {}
    try:
        shape = Shape.from_config(config, str(row["model"]))
    except AnalysisError:  # no or an incomplete config in the file: the model's name
        shape = Shape.named(str(row["model"]))
    ladder_layers = row.get("ladder_layers")
    if ladder_layers is not None and not (isinstance(ladder_layers, float) and math.isnan(ladder_layers)):
        shape = Shape(**{**vars(shape), "ladder_layers": int(ladder_layers)})
    wb = DTYPE_BYTES.get(str(row.get("dtype", "fp32")), 4)
    emulated = int(row.get("link_emulated", 0) or 0)
    return Workload(shape, tp=int(row["tp"]), batch=int(row["batch"]), prompt_len=int(row["prompt_len"]),
                    gen_len=int(row["gen_len"]), weight_bytes=wb, act_bytes=4,
                    wire_bytes=_wire_bytes(row.get("allreduce_dtype"), wb),
                    p2p="on" if row.get("p2p") == "emulated" else str(row.get("p2p", "on")),
                    link_latency_us=float(row.get("link_latency_us", 0) or 0) if emulated else 0.0,
                    link_bandwidth_gbps=float(row.get("link_bandwidth_gbps", 0) or 0) if emulated else 0.0)


class Calibrations:
    """Machines by results file: each file's own roofline plus the ladder-allreduce files given
    (`job`), or the median of every results file's at the same rank count (`pooled`: steadier on a
    noisy machine, but no longer the same job's); or one machine for every cell (--machine /
    --calibrate). In `job` mode a cell whose file has its own calibration (measured between the
    cell's generations) takes its GEMM times and all-reduce hand-off from there (`for_cell`)."""

    def __init__(self, allreduce_files=(), machine: Machine | None = None, pooled_over=()):
        self.allreduce_files = list(allreduce_files)
        self.machine = machine
        self.pooled_over = [str(p) for p in pooled_over]
        self._cache: dict[str, Machine | None] = {}
        self._pools: dict[int, Machine | None] = {}
        self._steps: dict[str, dict] = {}

    @classmethod
    def discover(cls, paths, machine: Machine | None = None, mode: str = "job") -> "Calibrations":
        if machine is not None:
            return cls([], machine)
        if mode not in ("job", "pooled"):
            raise AnalysisError(f"--calibration {mode}: choose job or pooled")
        results = [p for p in find_result_files(paths) if file_kind(p) == "inference"] if mode == "pooled" else []
        return cls(find_allreduce_files(paths), None, results)

    def _own(self, file: str) -> Machine | None:
        if file not in self._cache:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", AnalysisWarning)
                    self._cache[file] = machine_from_results(Path(file), self.allreduce_files)
            except AnalysisError:
                self._cache[file] = None  # no roofline in that file: no prediction
        return self._cache[file]

    def for_cell(self, file: str, batch: int, prompt_len: int, gen_len: int) -> Machine | None:
        """for_file's machine, with the cell's own calibration where the file has one (job mode)."""
        machine = self.for_file(file)
        if machine is None or self.machine is not None or self.pooled_over:
            return machine
        if file not in self._steps:
            self._steps[file] = step_calibrations(Path(file))
        step = self._steps[file].get((int(batch), int(prompt_len), int(gen_len)))
        return with_step_calibration(machine, step, f"the cell's calibration (batch {int(batch)})") if step else machine

    def for_file(self, file: str) -> Machine | None:
        if self.machine is not None:
            return self.machine
        own = self._own(file)
        if not self.pooled_over or own is None:
            return own
        ranks = world_size_of(Path(file))
        if ranks not in self._pools:
            machines = [m for m in (self._own(f) for f in self.pooled_over if world_size_of(Path(f)) == ranks)
                        if m is not None]
            self._pools[ranks] = pooled_machine(machines) if machines else None
        return self._pools[ranks]


def add_predictions(stats: pd.DataFrame, samples: pd.DataFrame, calibrations: Calibrations) -> pd.DataFrame:
    """stats with PREDICTED_COLUMNS: each (cell, variant) predicted on the machine of the first file
    that holds it (NaN where that file has no roofline, or TP > 1 and no all-reduce calibration)."""
    first = samples.assign(device=samples["device"].fillna("unknown") if "device" in samples else "unknown") \
        .groupby(CELL_KEYS + ["variant"], sort=False).first().reset_index()
    first = first.set_index(CELL_KEYS + ["variant"])
    rows = []
    for _, row in stats.iterrows():
        key = tuple(row[k] for k in CELL_KEYS + ["variant"])
        out = dict.fromkeys(PREDICTED_COLUMNS, np.nan)
        out["calibration"] = out["calibration_bw"] = ""
        sample = first.loc[key].to_dict() if key in first.index else None
        machine = calibrations.for_cell(sample["file"], *(row[k] for k in ("batch", "prompt_len", "gen_len"))) \
            if sample else None
        if machine is not None:
            sample.update(dict(zip(CELL_KEYS + ["variant"], key)))
            try:
                w = workload_of(sample)
            except AnalysisError:  # a model the model cannot shape: no prediction for this cell
                w = None
            if w is not None and (w.tp == 1 or machine.allreduce
                                  or any(t.ranks == w.tp for t in machine.allreduce_tables)):
                p, = predict(w, machine, (row["variant"],))
                out.update(predicted_tokens_per_s=p.tokens_per_s, predicted_speedup=p.speedup,
                           predicted_prefill_s=p.prefill_s, predicted_step_ms=1e3 * p.step_s,
                           predicted_compute_ms=p.attention_ms + p.mlp_ms, predicted_stretch_ms=p.stretch_ms,
                           predicted_handoff_ms=p.handoff_ms,
                           predicted_wait_ms=p.wait_ms, calibration=machine.name,
                           calibration_bw=str(machine.provenance.get("mem_bw", "")))
        rows.append(out)
    return pd.concat([stats.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


def has_predictions(stats: pd.DataFrame) -> bool:
    return "predicted_tokens_per_s" in stats and stats["predicted_tokens_per_s"].notna().any()


# --------------------------------------------------------------------------------------------
# --check: predicted vs measured


def _why(row) -> str:
    """The component whose prediction is furthest off, per decode step or for the prefill, with
    the measured --breakdown where the run has one."""
    steps = row["gen_len"] - 1
    parts = []
    if steps > 0:
        measured_step = 1e3 * row["decode_s_median"] / steps
        parts.append(("decode step", measured_step - row["predicted_step_ms"], measured_step, row["predicted_step_ms"]))
        if not math.isnan(row.get("breakdown_compute_s_median", math.nan)):
            mc, mw = 1e3 * row["breakdown_compute_s_median"], 1e3 * row["breakdown_wait_s_median"]
            pc = row["predicted_compute_ms"] + row["predicted_stretch_ms"]
            parts.append(("module compute", mc - pc, mc, pc))
            parts.append(("exposed comm", mw - row["predicted_wait_ms"], mw, row["predicted_wait_ms"]))
            rest, prest = measured_step - mc - mw, row["predicted_step_ms"] - pc - row["predicted_wait_ms"]
            parts.append(("rest of step", rest - prest, rest, prest))
    # The prefill, per decode step's worth of time, so the components compare.
    pf, ppf = 1e3 * row["prefill_s_median"], 1e3 * row["predicted_prefill_s"]
    parts.append(("prefill", (pf - ppf) / max(steps, 1), pf, ppf))
    detail = [p for p in parts if p[0] != "decode step"] or parts
    name, diff, measured, predicted = max(detail, key=lambda p: abs(p[1]))
    unit = "ms" if name == "prefill" else "ms/step"
    why = f"{name}: measured {measured:.2f} vs predicted {predicted:.2f} {unit}"
    skew = row.get("rank_skew_ms", math.nan)
    if name in ("module compute", "exposed comm") and skew > max(0.25 * abs(diff), 0.5):
        why += f" (≈{skew:.2f} ms/step of rank skew counted in both compute and wait)"
    low, high = row.get("speedup_ci_low", math.nan), row.get("speedup_ci_high", math.nan)
    if not math.isnan(low):
        inside = "inside" if row["speedup_in_interval"] else "outside"
        why += f"; predicted speedup {inside} the measured one's 95% interval [{low:.3f}, {high:.3f}]"
    return why


def rank_skew_ms(rows: pd.DataFrame) -> pd.Series:
    """Rank skew counted twice by --breakdown, ms per decode step, per row with a breakdown and a
    wait: compute and wait are each the slowest rank's, so when one rank computes slower, the
    other's longer wait is added to it, and compute + wait exceed the step less its other work.
    That other work (embedding, LM head, argmax: no all-reduce) is measured by upper-bound's
    breakdown in the same cell (step - compute), else taken as predicted; the row's predicted
    hand-off (start_allreduce, in neither compute nor wait) is added to it. skew = compute + wait -
    (step - other), floored at 0; NaN where there is no breakdown or no wait (upper-bound, TP 1)."""
    steps = (rows["gen_len"] - 1).clip(lower=1)
    if "breakdown_compute_s_median" not in rows:
        return pd.Series(np.nan, index=rows.index)
    step = 1e3 * rows["decode_s_median"] / steps
    compute, wait = 1e3 * rows["breakdown_compute_s_median"], 1e3 * rows["breakdown_wait_s_median"]
    handoff = rows["predicted_handoff_ms"].fillna(0) if "predicted_handoff_ms" in rows else 0.0
    other = (rows["predicted_step_ms"] - rows["predicted_compute_ms"] - rows["predicted_stretch_ms"]
             - rows["predicted_wait_ms"] - handoff)
    keys = [k for k in CELL_KEYS if k in rows]
    upper = rows["variant"] == "upper-bound"
    measured_other = (step - compute)[upper & compute.notna()]
    if not measured_other.empty:
        ref = rows.loc[measured_other.index, keys].assign(_other=measured_other.values)
        ref = ref.drop_duplicates(keys)
        merged = rows[keys].reset_index().merge(ref, on=keys, how="left").set_index("index")["_other"]
        other = merged.reindex(rows.index).fillna(other)
    skew = (compute + wait - (step - other - handoff)).clip(lower=0)
    return skew.where(wait > 0)


def check(stats: pd.DataFrame, tokens_tol=TOKENS_TOLERANCE, speedup_tol=SPEEDUP_TOLERANCE) -> pd.DataFrame:
    """Every measured cell with a prediction: errors and verdicts."""
    rows = stats[stats["predicted_tokens_per_s"].notna()].copy()
    rows["tokens_error"] = rows["predicted_tokens_per_s"] / rows["tokens_per_s_median"] - 1
    rows["speedup_error"] = rows["predicted_speedup"] - rows["speedup"]
    tok_ok = rows["tokens_error"].abs() <= tokens_tol
    sp_ok = rows["speedup_error"].abs().le(speedup_tol) | rows["speedup"].isna()
    rows["verdict"] = np.where(tok_ok & sp_ok, "ok", "MISS")
    if "speedup_ci_low" in rows:
        inside = rows["predicted_speedup"].between(rows["speedup_ci_low"], rows["speedup_ci_high"])
        rows["speedup_in_interval"] = inside.where(rows["speedup_ci_low"].notna())
    rows["rank_skew_ms"] = rank_skew_ms(rows)
    rows["why"] = [_why(r) if v == "MISS" else "" for r, v in zip(rows.to_dict("records"), rows["verdict"])]
    return rows


def check_table(result: pd.DataFrame, tokens_tol=TOKENS_TOLERANCE, speedup_tol=SPEEDUP_TOLERANCE) -> Table:
    shown, constants = setting_columns(result)
    display = result[shown + ["variant"]].copy()
    display["measured tok/s"] = result["tokens_per_s_median"].map(number)
    display["predicted tok/s"] = result["predicted_tokens_per_s"].map(number)
    display["error"] = result["tokens_error"].map(lambda e: f"{100 * e:+.1f}%")
    display["measured speedup"] = [speedup_with_interval(r) for r in result.to_dict("records")]
    display["predicted speedup"] = result["predicted_speedup"].map(ratio)
    display["diff"] = result["speedup_error"].map(lambda e: MISSING if math.isnan(e) else f"{e:+.3f}")
    display["verdict"] = result["verdict"]
    display["why (largest gap)"] = result["why"]
    return Table(result, display, shown + ["variant", "verdict", "why (largest gap)"],
                 [f"Predicted (performance model, calibrated per results file from its --roofline and the "
                  f"ladder-allreduce files) vs measured median (speedup: [95% bootstrap interval]); error = predicted / "
                  f"measured - 1; verdict `ok` "
                  f"when the tokens/s error is within {tokens_tol:.0%} and the speedup over {BASELINE} within "
                  f"{speedup_tol:.2f}; for a miss, the component (from --breakdown where recorded) whose "
                  "prediction is furthest off.", check_summary(result, tokens_tol, speedup_tol),
                  *bandwidth_note(result), *constants])


def bandwidth_note(result: pd.DataFrame) -> list[str]:
    """Which roofline attribute each calibration's memory bandwidth came from (STREAM read where
    the file has it, else triad), with the number of cells."""
    sources = result.get("calibration_bw", pd.Series(dtype=str)).replace("", np.nan).dropna()
    if sources.empty:
        return []
    counts = sources.value_counts()
    return ["Memory bandwidth BW calibrated from " + ", ".join(f"`{k}` ({n} cells)" for k, n in counts.items()) + "."]


def check_summary(result: pd.DataFrame, tokens_tol=TOKENS_TOLERANCE, speedup_tol=SPEEDUP_TOLERANCE) -> str:
    n, ok = len(result), int((result["verdict"] == "ok").sum())
    tok = int((result["tokens_error"].abs() <= tokens_tol).sum())
    sp = result["speedup_error"].dropna()
    return (f"{ok} of {n} cells ok; tokens/s within {tokens_tol:.0%}: {tok} of {n} (largest error "
            f"{100 * result['tokens_error'].abs().max():.1f}%); speedup within {speedup_tol:.2f}: "
            f"{int((sp.abs() <= speedup_tol).sum())} of {len(sp)} (largest difference {sp.abs().max():.3f})."
            + interval_note(result, speedup_tol) + noise_floor(result))


def interval_note(result: pd.DataFrame, speedup_tol=SPEEDUP_TOLERANCE) -> str:
    """How precisely the measurement itself determines the speedups (cells.speedup_interval): the
    cells whose 95 % interval is wider than ±speedup_tol, where no prediction can be judged to
    that tolerance, and how many predictions, and how many speedup misses, lie inside it."""
    if "speedup_in_interval" not in result:
        return ""
    rows = result[result["speedup_in_interval"].notna()]
    if rows.empty:
        return ""
    half = (rows["speedup_ci_high"] - rows["speedup_ci_low"]) / 2
    inside = rows["speedup_in_interval"].astype(bool)
    missed = rows["speedup_error"].abs() > speedup_tol
    return (f" The measured speedups' own 95% intervals (bootstrap over the repetitions) are wider than "
            f"±{speedup_tol:.2f} in {int((half > speedup_tol).sum())} of {len(rows)} cells (median half-width "
            f"{half.median():.3f}, largest {half.max():.3f}); the predicted speedup lies inside the measured "
            f"interval in {int(inside.sum())} of {len(rows)} cells, and in {int((inside & missed).sum())} of the "
            f"{int(missed.sum())} speedup misses.")


def noise_floor(result: pd.DataFrame) -> str:
    """How much upper-bound (no communication: the link cannot change it) moved between jobs with
    different emulated links: the machine's own drift, a floor under any model's error."""
    upper = result[(result["variant"] == "upper-bound") & (result["tp"] > 1)]
    spreads = []
    for (batch,), group in upper.groupby(["batch"]):
        if group["link"].nunique() > 1:
            values = group["tokens_per_s_median"]
            spreads.append(f"batch {batch} {100 * (values.max() / values.min() - 1):.0f}%")
    return (" Upper-bound tokens/s across the jobs (the link cannot change them): max/min - 1 = "
            + ", ".join(spreads) + ".") if spreads else ""


# --------------------------------------------------------------------------------------------
# Curves over the emulated link latency (the latency-sweep figure)


def _median_rows(tables: list[list]) -> list:
    """Rows of several tables whose last column is seconds: one row per key (the other columns),
    the median of its seconds."""
    times: dict[tuple, list] = {}
    for table in tables:
        for row in table:
            times.setdefault(tuple(row[:-1]), []).append(row[-1])
    return [[*k, float(np.median(v))] for k, v in times.items()]


def pooled_machine(machines: list[Machine], overshoot_by_latency: dict | None = None) -> Machine:
    """One machine from several jobs' calibrations: the median of every roofline number, of every
    measured GEMM and kernel time, of every cell's all-reduce hand-off and wait per size and of its
    rank skew (the all-reduce tables are the first's: the same ladder-allreduce files). With
    `overshoot_by_latency` ({µs: s}, the cells' own: cells_overshoot_by_latency), that replaces the
    ladder-allreduce files' ω."""
    base = machines[0]
    if overshoot_by_latency:
        base = replace(base, sleep_overshoot_by_latency=dict(overshoot_by_latency),
                       sleep_overshoot_s=float(np.median(list(overshoot_by_latency.values()))))
    if len(machines) == 1:
        return base

    def by_size(key):  # {bytes: seconds}: the median per size
        return dict(_median_rows([list(getattr(m, key).items()) for m in machines]))
    return Machine(**{**vars(base), "name": f"median of {len(machines)} calibrations",
                      "mem_bw_Bps": float(np.median([m.mem_bw_Bps for m in machines])),
                      "gemm_flops": float(np.median([m.gemm_flops for m in machines])),
                      "gemm_table": _median_rows([m.gemm_table for m in machines]),
                      "kernel_table": _median_rows([m.kernel_table for m in machines]),
                      # The link's wait only at the link it was measured at: the jobs differ in it.
                      **{key: by_size(key) for key in IN_STEP if key != "allreduce_wait_link_in_step"},
                      "allreduce_wait_link_in_step": {}})


def cells_overshoot_by_latency(machines_at: list[tuple[float, Machine]], base: Workload) -> dict:
    """ω per emulated latency ({µs: s}) from the cells' own waits through their link: each job's
    cell calibration at its latency (Machine.overshoot_in_step, at the sizes it measured through the
    link), the median per latency; {} where no cell measured one. The figure's curves then take ω
    as the cells do, not from ladder-allreduce's blocking runs minutes away (CI VM, session 11: one
    sweep's runs at 500 and 1000 µs took 2-6x the link's time per call in bursts while the cells'
    own waits came within 6 µs of the link's time plus the wait without it)."""
    by_latency: dict = {}
    for latency, m in machines_at:
        if latency <= 0 or not m.allreduce_wait_link_in_step:
            continue
        w = replace(base, link_latency_us=float(latency), link_bandwidth_gbps=0.0)
        for nbytes in m.allreduce_wait_link_in_step:
            by_latency.setdefault(float(latency), []).append(m.overshoot_in_step(w, nbytes))
    return {latency: float(np.median(v)) for latency, v in sorted(by_latency.items())}


def latency_curves(stats: pd.DataFrame, samples: pd.DataFrame, calibrations: Calibrations,
                   points: int = 101) -> pd.DataFrame:
    """Predicted tokens/s and speedup over a fine grid of emulated latencies, per setting (model,
    device, dtype, lengths, TP > 1) measured at two or more latencies, batch and variant, on the
    pooled machine of the setting's files. Columns: the setting, batch, variant, latency_us,
    predicted_tokens_per_s, predicted_speedup."""
    if not has_predictions(stats):
        return pd.DataFrame()
    samples = samples.assign(latency_us=link_latency_us(samples))
    keys = ["model", "device", "dtype", "prompt_len", "gen_len", "tp"]
    rows = []
    for setting, group in samples[samples["tp"] > 1].groupby(keys, sort=False):
        if group["latency_us"].nunique() < 2 or group["link_bandwidth_gbps"].fillna(0).max() > 0:
            continue
        grid = np.linspace(0.0, group["latency_us"].max(), points)
        for batch, cell in group.groupby("batch"):
            machines_at = []  # (the job's latency, its cell's calibration), in the files' order
            for f, latency in cell.groupby("file", sort=False)["latency_us"].first().items():
                m = calibrations.for_cell(f, batch, *setting[3:5])
                if m is not None:
                    machines_at.append((latency, m))
            if not machines_at:
                continue
            base = workload_of(cell.iloc[0].to_dict())
            machine = pooled_machine([m for _, m in machines_at], cells_overshoot_by_latency(machines_at, base))
            variants = ordered_variants(cell["variant"].unique())
            for latency in grid:
                w = replace(base, link_latency_us=float(latency), link_bandwidth_gbps=0.0)
                for p in predict(w, machine, tuple(variants)):
                    rows.append({**dict(zip(keys, setting)), "batch": batch, "variant": p.variant,
                                 "latency_us": float(latency), "predicted_tokens_per_s": p.tokens_per_s,
                                 "predicted_speedup": p.speedup})
    return pd.DataFrame(rows)
