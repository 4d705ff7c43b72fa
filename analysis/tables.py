"""The two result tables: throughput and speedup over standard, and the latency breakdown."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .cells import (BASELINE, CELL_KEYS, EVAL_COLUMNS, MIN_INTERVAL_SAMPLES, breakdown_columns, component_label,
                    ordered_variants, varying)
from .render import MISSING, Table, number, ratio, write_table

# Always shown, as in the paper's tables; the other cell keys only when they differ between rows
# (a constant is stated once in the notes instead of repeated in every row).
PRIMARY_KEYS = ["model", "tp", "batch", "p2p"]
SECONDARY_KEYS = [k for k in CELL_KEYS if k not in PRIMARY_KEYS]


def setting_columns(stats: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(columns to show, note stating the constant secondary keys)."""
    shown = PRIMARY_KEYS + varying(stats, SECONDARY_KEYS)
    constant = [k for k in SECONDARY_KEYS if k not in shown]
    note = ["Same in every row: " + ", ".join(f"{k}={stats[k].iloc[0]}" for k in constant) + "."] if constant else []
    return shown, note


def _sample_note(stats: pd.DataFrame) -> str:
    low, high = int(stats["n"].min()), int(stats["n"].max())
    return f"{low} samples per cell." if low == high else f"{low} to {high} samples per cell."


def speedup_table(stats: pd.DataFrame) -> Table:
    """Wide: one row per setting, tokens/s of every variant, then each variant's speedup."""
    shown, constants = setting_columns(stats)
    variants = ordered_variants(stats["variant"])
    predicted = "predicted_tokens_per_s" in stats and stats["predicted_tokens_per_s"].notna().any()
    quality = "eval_nll" in stats and stats["eval_nll"].notna().any()
    rows = []
    for key, cell in stats.groupby(CELL_KEYS, sort=False):
        by_variant = cell.set_index("variant")
        row = dict(zip(CELL_KEYS, key))
        display = {k: row[k] for k in shown}
        for v in variants:
            if v in by_variant.index:
                s = by_variant.loc[v]
                display[f"{v} tok/s"] = (f"{number(s.tokens_per_s_median)} "
                                         f"[{number(s.tokens_per_s_q1)}, {number(s.tokens_per_s_q3)}]")
            else:
                display[f"{v} tok/s"] = MISSING
        for v in variants:
            if v != BASELINE:
                display[f"{v} speedup"] = speedup_with_interval(by_variant.loc[v]) if v in by_variant.index else MISSING
        if quality:  # --eval-tokens: what each variant's speed costs in next-token NLL
            for v in variants:
                s = by_variant.loc[v] if v in by_variant.index else None
                display[f"{v} NLL (ppl)"] = (f"{s.eval_nll:.4f} ({number(s.eval_perplexity)})"
                                             if s is not None and not np.isnan(s.eval_nll) else MISSING)
        if predicted:  # the performance model's, where the cell has a calibration
            for v in variants:
                value = by_variant.loc[v, "predicted_tokens_per_s"] if v in by_variant.index else np.nan
                display[f"{v} predicted tok/s"] = number(value)
            for v in variants:
                if v != BASELINE:
                    value = by_variant.loc[v, "predicted_speedup"] if v in by_variant.index else np.nan
                    display[f"{v} predicted speedup"] = ratio(value)
        rows.append(display)
    notes = [
        "tokens/s: median [25th, 75th percentile] of the samples; speedup: median tokens/s over "
        f"the {BASELINE} median in the same row ({MISSING} where either is missing) [95% bootstrap interval, "
        f"where both have {MIN_INTERVAL_SAMPLES} or more samples]. " + _sample_note(stats),
        *constants,
    ]
    if quality:
        notes.insert(1, "NLL (ppl): --eval-tokens, each variant's mean next-token negative log-likelihood (nats) "
                        "over the stream's windows and its perplexity, by the same forward as the timed runs.")
    if predicted:
        notes.insert(1, "predicted: the performance model (`python -m analysis predict`, docs/measurement.md) on the "
                        f"machine calibrated from the cell's own --roofline and ladder-allreduce files ({MISSING} "
                        "where the cell has no calibration).")
    data_columns = CELL_KEYS + ["variant", "n", "tokens_per_s_median", "tokens_per_s_q1", "tokens_per_s_q3",
                                "tokens_per_s_min", "tokens_per_s_max", "tokens_per_s_mean",
                                "standard_tokens_per_s", "speedup", "speedup_ci_low", "speedup_ci_high"]
    if quality:
        data_columns += [c for c in EVAL_COLUMNS if c in stats]
    if predicted:
        data_columns += ["predicted_tokens_per_s", "predicted_speedup"]
    return Table(stats[data_columns], pd.DataFrame(rows), shown, notes)


def speedup_with_interval(row) -> str:
    """`1.23 [1.18, 1.29]`: a cell's speedup and its bootstrap interval (cells.speedup_interval);
    the speedup alone where the cell has no interval."""
    low, high = row.get("speedup_ci_low", np.nan), row.get("speedup_ci_high", np.nan)
    text = ratio(row["speedup"])
    return text if np.isnan(row["speedup"]) or np.isnan(low) else f"{text} [{ratio(low)}, {ratio(high)}]"


def breakdown_table(stats: pd.DataFrame) -> Table:
    """Long: one row per (setting, variant) with median prefill, decode and per-step latency, and
    the median of every breakdown_* component when the app recorded them."""
    shown, constants = setting_columns(stats)
    components = breakdown_columns(stats)  # breakdown_<name>_median
    data = stats[CELL_KEYS + ["variant", "n", "prefill_s_median", "decode_s_median", "total_s_median"]
                 + components].copy()
    # gen_len - 1 decode steps follow the prefill; a run with gen_len 1 has none.
    steps = (data["gen_len"] - 1).where(data["gen_len"] > 1)
    data.insert(data.columns.get_loc("total_s_median"), "decode_step_ms", 1e3 * data["decode_s_median"] / steps)

    display = data[shown + ["variant"]].copy()
    display["prefill s"] = data["prefill_s_median"].map(number)
    display["decode s"] = data["decode_s_median"].map(number)
    display["decode ms/step"] = data["decode_step_ms"].map(number)
    display["total s"] = data["total_s_median"].map(number)
    for c in components:
        display[component_label(c) + " s"] = data[c].map(number)
    notes = [
        "Median over the samples of each row: prefill = prompt forward + first token, decode = "
        "the gen_len-1 decode steps, total = prefill + decode (median of the sums). " + _sample_note(stats),
        *constants,
    ]
    return Table(data, display, shown + ["variant"], notes)


def write_tables(stats: pd.DataFrame, out_dir: Path, formats) -> list[Path]:
    """speedup.{md,csv,tex} and breakdown.{md,csv,tex} in out_dir."""
    return (write_table(out_dir, "speedup", speedup_table(stats), formats)
            + write_table(out_dir, "breakdown", breakdown_table(stats), formats))
