"""Put every measured cell next to the paper's published number (results/reference/paper-numbers.csv)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .cells import CELL_KEYS
from .errors import AnalysisError
from .models import canonical_model
from .render import Table, number, ratio
from .tables import setting_columns

DEFAULT_REFERENCE = Path(__file__).resolve().parent.parent / "results" / "reference" / "paper-numbers.csv"
REFERENCE_KEYS = ["model", "tp", "batch", "p2p", "variant"]
REFERENCE_COLUMNS = REFERENCE_KEYS + ["tokens_per_s", "speedup_vs_standard", "source"]
# The paper measured 1024 prompt tokens and 512 generated ones; other lengths are flagged in the
# note because tokens/s depends on them.
PAPER_PROMPT_LEN, PAPER_GEN_LEN = 1024, 512


def load_reference(path: Path = DEFAULT_REFERENCE) -> pd.DataFrame:
    """One row per REFERENCE_KEYS: published_tokens_per_s, published_speedup, source, note.

    A cell published twice (the benchmark's plotting data and the paper's Table 1) is compared
    with the row that has tokens/s, so that its tokens/s and speedup come from the same
    measurement; the other row's speedup is kept in `note`.
    """
    try:
        ref = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnalysisError(f"{path}: cannot read the reference table ({exc})") from None
    missing = [c for c in REFERENCE_COLUMNS if c not in ref.columns]
    if missing:
        raise AnalysisError(f"{path}: reference table lacks column(s) {', '.join(missing)}")
    ref = ref.assign(model=ref["model"].map(canonical_model),
                     p2p=ref["p2p"].astype(str).str.strip().str.lower(),
                     variant=ref["variant"].astype(str).str.strip())
    rows = []
    for key, group in ref.groupby(REFERENCE_KEYS, sort=False):
        group = group.sort_values("tokens_per_s", na_position="last", kind="stable")
        primary, others = group.iloc[0], group.iloc[1:]
        rows.append({
            **dict(zip(REFERENCE_KEYS, key)),
            "published_tokens_per_s": primary["tokens_per_s"],
            "published_speedup": primary["speedup_vs_standard"],
            "source": primary["source"],
            "note": "; ".join(f"also {_short(o['source'])}: speedup {o['speedup_vs_standard']:g}"
                              for _, o in others.iterrows()),
        })
    return pd.DataFrame(rows)


def _short(source: str) -> str:
    """`paper Table 1 (via paper note; ...)` -> `paper Table 1`: the remark is in the CSV."""
    return str(source).split(" (")[0]


def compare(stats: pd.DataFrame, reference: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """Measured cells (cells.cell_stats) joined with the reference; ratios measured/published and
    a status: ok, mismatch (a ratio off by more than `tolerance`), unpublished, or no ratio."""
    if tolerance < 0:
        raise AnalysisError(f"--tolerance {tolerance}: must be 0 or more")
    extra = [c for c in ("predicted_tokens_per_s", "predicted_speedup") if c in stats]
    measured = stats[CELL_KEYS + ["variant", "n", "tokens_per_s_median", "speedup"] + extra].rename(
        columns={"tokens_per_s_median": "measured_tokens_per_s", "speedup": "measured_speedup"})
    result = measured.merge(reference, on=REFERENCE_KEYS, how="left", indicator=True)
    result["tokens_ratio"] = result["measured_tokens_per_s"] / result["published_tokens_per_s"]
    result["speedup_ratio"] = result["measured_speedup"] / result["published_speedup"]

    ratios = result[["tokens_ratio", "speedup_ratio"]]
    off = ((ratios - 1).abs() > tolerance).any(axis=1)
    result["status"] = np.select(
        [result["_merge"] == "left_only", off, ratios.isna().all(axis=1)],
        ["unpublished", "mismatch", "no ratio"], default="ok")

    protocol = (result["prompt_len"] != PAPER_PROMPT_LEN) | (result["gen_len"] != PAPER_GEN_LEN)
    length_note = ("prompt/gen " + result["prompt_len"].astype(str) + "/" + result["gen_len"].astype(str)
                   + f" differ from the paper's {PAPER_PROMPT_LEN}/{PAPER_GEN_LEN}")
    notes = result["note"].fillna("")
    result["note"] = notes.where(~protocol | (result["status"] == "unpublished"),
                                 (notes + "; " + length_note).str.strip("; "))
    return result.drop(columns="_merge")


def compare_table(result: pd.DataFrame, reference: pd.DataFrame, tolerance: float) -> Table:
    shown, constants = setting_columns(result)
    display = result[shown + ["variant"]].copy()
    display["measured tok/s"] = result["measured_tokens_per_s"].map(number)
    display["published tok/s"] = result["published_tokens_per_s"].map(number)
    display["tok/s ratio"] = result["tokens_ratio"].map(ratio)
    display["measured speedup"] = result["measured_speedup"].map(ratio)
    display["published speedup"] = result["published_speedup"].map(ratio)
    display["speedup ratio"] = result["speedup_ratio"].map(ratio)
    predicted = "predicted_tokens_per_s" in result and result["predicted_tokens_per_s"].notna().any()
    if predicted:  # the performance model's, where the cell has a calibration
        display["predicted tok/s"] = result["predicted_tokens_per_s"].map(number)
        display["predicted speedup"] = result["predicted_speedup"].map(ratio)
    display["status"] = result["status"]
    display["note"] = result["note"]
    notes = [
        f"Measured median next to the published value; ratio = measured / published; status `mismatch` "
        f"where a ratio is off by more than {tolerance:.0%}, `unpublished` where the paper has no "
        "such cell, `no ratio` where neither value can be compared (e.g. no standard run).",
        summary(result, reference, tolerance),
        *constants,
    ]
    if predicted:
        notes.insert(1, "predicted: the performance model (`python -m analysis predict`) on the machine calibrated "
                        "from the cell's own --roofline and ladder-allreduce files.")
    return Table(result, display, shown + ["variant", "status", "note"], notes)


def summary(result: pd.DataFrame, reference: pd.DataFrame, tolerance: float) -> str:
    counts = result["status"].value_counts()
    measured_keys = set(map(tuple, result[REFERENCE_KEYS].astype(str).values))
    unmeasured = sum(tuple(k) not in measured_keys for k in reference[REFERENCE_KEYS].astype(str).values)
    return (f"{len(result)} measured cells: {counts.get('ok', 0)} within {tolerance:.0%} of the paper, "
            f"{counts.get('mismatch', 0)} mismatched, {counts.get('no ratio', 0)} without a comparable value, "
            f"{counts.get('unpublished', 0)} unpublished; {unmeasured} published cells not measured.")

