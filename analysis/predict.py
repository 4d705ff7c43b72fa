"""The performance model's predictions: `python -m analysis predict`'s table, the predicted columns
of `table`, `compare` and `plot` for measured cells, and the curves over the emulated link latency
(the latency-sweep figure). Which machine predicts a cell is calibrations.py's; `--check` is
predict_check.py's, `--reference` paper.py's.
"""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from .calibrations import Calibrations, cells_overshoot_by_latency, pooled_machine
from .cells import CELL_KEYS, link_latency_us, ordered_variants
from .errors import AnalysisError
from .machine import Machine
from .perfmodel import predict
from .render import Table, number, ratio
from .workload import DTYPE_BYTES, Shape, Workload

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
    desync_pattern = row.get("desync_pattern")
    if isinstance(desync_pattern, str) and desync_pattern:
        shape = Shape(**{**vars(shape), "desync_pattern": desync_pattern})
    wb = DTYPE_BYTES.get(str(row.get("dtype", "fp32")), 4)
    emulated = int(row.get("link_emulated", 0) or 0)
    return Workload(shape, tp=int(row["tp"]), batch=int(row["batch"]), prompt_len=int(row["prompt_len"]),
                    gen_len=int(row["gen_len"]), weight_bytes=wb, act_bytes=4,
                    wire_bytes=_wire_bytes(row.get("allreduce_dtype"), wb),
                    p2p="on" if row.get("p2p") == "emulated" else str(row.get("p2p", "on")),
                    link_latency_us=float(row.get("link_latency_us", 0) or 0) if emulated else 0.0,
                    link_bandwidth_gbps=float(row.get("link_bandwidth_gbps", 0) or 0) if emulated else 0.0)


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
# Curves over the emulated link latency (the latency-sweep figure)


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
