"""Reduce samples to cells: median, spread and speedup of one variant in one measured setting.

A cell is one value of CELL_KEYS plus a variant. Samples of the same cell from several runs or
files are pooled. Throughput is summarised by its median and its interquartile range (25th and
75th percentile, linear interpolation), which a single slow outlier repetition cannot move; the
speedup of a variant is its median tokens/s over the standard variant's median in the same cell,
with a bootstrap interval that says how precisely the samples determine it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import AnalysisError
from .load import BREAKDOWN_PREFIX
from .models import parameter_count

# Everything that changes what a number means; two samples share a cell only if all agree.
CELL_KEYS = ["model", "device", "dtype", "prompt_len", "gen_len", "p2p", "link", "tp", "batch"]
BASELINE = "standard"
VARIANT_ORDER = ("standard", "ladder", "parallel", "upper-bound", "hybrid-ladder", "desync")
P2P_ORDER = ("on", "off", "emulated")
# The measured speedup's interval (speedup_interval): a 95 % percentile bootstrap; 2000 resamples
# put the interval's ends within about 0.005 of their limit for the spreads measured here.
SPEEDUP_CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
MIN_INTERVAL_SAMPLES = 3


def ordered_variants(variants) -> list[str]:
    """The paper's order, variants unknown to it (added later to the app) after, alphabetically."""
    present = set(variants)
    return [v for v in VARIANT_ORDER if v in present] + sorted(present - set(VARIANT_ORDER))


def breakdown_columns(frame: pd.DataFrame) -> list[str]:
    return sorted(c for c in frame.columns if c.startswith(BREAKDOWN_PREFIX))


def component_label(column: str) -> str:
    """`breakdown_comm_s_median` -> `comm` (the unit, seconds, goes into the axis or header)."""
    return column.removeprefix(BREAKDOWN_PREFIX).removesuffix("_median").removesuffix("_s")


# --eval-tokens (load.py): a variant's NLL and perplexity over the stream, one value per run.
EVAL_COLUMNS = ["eval_nll", "eval_perplexity", "eval_tokens"]


def cell_stats(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per (cell, variant): n, tokens/s median/q1/q3/min/max/mean, median latencies,
    median breakdown components, standard's median tokens/s, the speedup over it and its interval,
    model_params."""
    samples = samples.dropna(subset=["variant", "tokens_per_s"])
    if samples.empty:
        raise AnalysisError("the given result files hold no measured run yet (partial files of jobs "
                            "stopped before their first run?)")
    # A file without the root attribute `device` must not lose its samples in groupby (NaN key).
    samples = samples.assign(device=samples["device"].fillna("unknown") if "device" in samples else "unknown")

    grouped = samples.groupby(CELL_KEYS + ["variant"], sort=False)
    tps = grouped["tokens_per_s"]
    stats = pd.DataFrame({
        "n": tps.size(),
        "tokens_per_s_median": tps.median(),
        "tokens_per_s_q1": tps.quantile(0.25),
        "tokens_per_s_q3": tps.quantile(0.75),
        "tokens_per_s_min": tps.min(),
        "tokens_per_s_max": tps.max(),
        "tokens_per_s_mean": tps.mean(),
        "prefill_s_median": grouped["prefill_s"].median(),
        "decode_s_median": grouped["decode_s"].median(),
        "total_s_median": grouped["total_s"].median(),
        **{f"{c}_median": grouped[c].median() for c in breakdown_columns(samples)},
        **{c: grouped[c].first() for c in EVAL_COLUMNS if c in samples},
    }).reset_index()

    baseline = stats.loc[stats["variant"] == BASELINE, CELL_KEYS + ["tokens_per_s_median"]]
    stats = stats.merge(baseline.rename(columns={"tokens_per_s_median": "standard_tokens_per_s"}),
                        on=CELL_KEYS, how="left")
    stats["speedup"] = stats["tokens_per_s_median"] / stats["standard_tokens_per_s"]
    stats = stats.merge(speedup_interval(samples), on=CELL_KEYS + ["variant"], how="left")

    # Parameters per model, from the file's config.json where it has one, to order rows and the
    # speedup-vs-model-size figure; NaN when neither the config nor the paper's table knows it.
    configs = samples.groupby("model")["model_config"].first() if "model_config" in samples else {}
    size = {m: parameter_count(m, configs.get(m)) for m in stats["model"].unique()}
    stats["model_params"] = stats["model"].map(size).astype(float)

    # Rows in reading order: models small to large, real links before emulated ones, then TP and
    # batch with P2P on next to off.
    variant_rank = {v: i for i, v in enumerate(ordered_variants(stats["variant"]))}
    helpers = {
        "_size": stats["model_params"].fillna(0.0),
        "_latency": link_latency_us(stats).fillna(0.0),
        "_emulated": stats["link"] != "native",
        "_p2p": stats["p2p"].map(lambda p: P2P_ORDER.index(p) if p in P2P_ORDER else len(P2P_ORDER)),
        "_variant": stats["variant"].map(variant_rank),
    }
    order = ["_size", "model", "device", "dtype", "prompt_len", "gen_len", "_emulated", "_latency", "link", "tp", "batch",
             "_p2p", "p2p", "_variant"]
    stats = stats.assign(**helpers).sort_values(order, kind="stable").reset_index(drop=True)
    return stats.drop(columns=list(helpers))


def speedup_interval(samples: pd.DataFrame, confidence=SPEEDUP_CONFIDENCE,
                     resamples=BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """The measured speedup's own uncertainty, per (cell, variant other than standard): a
    percentile bootstrap interval (`speedup_ci_low`, `speedup_ci_high`) of the speedup, the
    variant's median tokens/s over standard's, recomputed from repetitions drawn with replacement.
    A speedup is the ratio of two medians of a few noisy samples; the interval says how far the same
    job measured again could move it, so a prediction can be judged against what the measurement
    can resolve. The app runs the variants of one repetition back to back (A B C A B C), and a
    machine's slow or fast moment spans neighbouring generations, so where every sample of the
    variant has standard's of the same repetition of the same file as its partner, the pairs are
    drawn together (one draw of repetitions for both; a paired bootstrap); otherwise each median
    from its own draw. NaN with fewer than MIN_INTERVAL_SAMPLES samples on either side. Every cell
    draws from the same seed: a table is the same each time it is made."""
    keys = CELL_KEYS + ["variant"]
    groups = dict(iter(samples.groupby(keys, sort=False)))
    rows = []
    for key, variant_rows in groups.items():
        *cell, variant = key
        standard_rows = groups.get((*cell, BASELINE))
        if variant == BASELINE or standard_rows is None:
            continue
        low = high = np.nan
        if min(len(variant_rows), len(standard_rows)) >= MIN_INTERVAL_SAMPLES:
            rng = np.random.default_rng(0)
            pairs = _pairs(variant_rows, standard_rows)
            if pairs is not None:  # one draw of repetitions for both
                variant_tps, standard_tps = pairs.T
                variant_draws = standard_draws = rng.integers(0, len(pairs), (resamples, len(pairs)))
            else:
                variant_tps = variant_rows["tokens_per_s"].to_numpy(float)
                standard_tps = standard_rows["tokens_per_s"].to_numpy(float)
                variant_draws = rng.integers(0, len(variant_tps), (resamples, len(variant_tps)))
                standard_draws = rng.integers(0, len(standard_tps), (resamples, len(standard_tps)))
            ratios = (np.median(variant_tps[variant_draws], axis=1)
                      / np.median(standard_tps[standard_draws], axis=1))
            low, high = np.quantile(ratios, [(1 - confidence) / 2, (1 + confidence) / 2])
        rows.append((*key, low, high))
    return pd.DataFrame(rows, columns=keys + ["speedup_ci_low", "speedup_ci_high"])


def _pairs(variant_rows: pd.DataFrame, standard_rows: pd.DataFrame) -> np.ndarray | None:
    """[n, 2] tokens/s of the variant and of standard in the same repetition of the same file, or
    None unless every sample on both sides has exactly one partner."""
    on = ["file", "rep"]
    if (not set(on) <= set(variant_rows) or len(variant_rows) != len(standard_rows)
            or variant_rows.duplicated(on).any() or standard_rows.duplicated(on).any()):
        return None
    merged = variant_rows[on + ["tokens_per_s"]].merge(standard_rows[on + ["tokens_per_s"]], on=on,
                                                       suffixes=("", "_standard"))
    if len(merged) != len(variant_rows):
        return None
    return merged[["tokens_per_s", "tokens_per_s_standard"]].to_numpy(float)


def link_latency_us(frame: pd.DataFrame) -> pd.Series:
    """The emulated link's latency in us of each row (from its `link`); 0 for a native link."""
    latency = frame["link"].str.extract(r"emulated ([0-9.e+-]+) us", expand=False).astype(float)
    return latency.where(frame["link"] != "native", 0.0)


def varying(frame: pd.DataFrame, columns) -> list[str]:
    """The columns among `columns` that take more than one value in `frame`."""
    return [c for c in columns if frame[c].nunique(dropna=False) > 1]

