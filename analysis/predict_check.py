"""`python -m analysis predict --check`: every measured cell's prediction against its measurement,
a verdict per cell, the component furthest off for a miss, and the notes on how precisely the
measurement itself can judge the model (speedup intervals, rank skew, the machine's drift)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .cells import BASELINE, CELL_KEYS
from .render import MISSING, Table, number, ratio
from .tables import setting_columns, speedup_with_interval

# Acceptance of the latency sweep (issue 17): tokens/s within 15 %, speedup within 0.05.
TOKENS_TOLERANCE = 0.15
SPEEDUP_TOLERANCE = 0.05


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
