"""Measured cells next to the published ones."""
import numpy as np
import pandas as pd
import pytest

from analysis.cells import cell_stats
from analysis.cli import main
from analysis.compare import DEFAULT_REFERENCE, compare, load_reference
from analysis.load import load_results
from analysis.tests.synth import write_result

TABLE_BASE = 100.0  # standard tokens/s for models the paper publishes only a speedup for


def _write_published(folder):
    """One file per (model, tp, p2p) whose tokens/s equal the published numbers: published
    tokens/s where the paper has them, else standard = TABLE_BASE and variant = base * speedup."""
    reference = load_reference()
    for (model, tp, p2p), group in reference.groupby(["model", "tp", "p2p"]):
        cells = {}
        for row in group.itertuples():
            if not np.isnan(row.published_tokens_per_s):
                cells[(row.variant, row.batch)] = row.published_tokens_per_s
        for row in group.itertuples():
            if np.isnan(row.published_tokens_per_s):
                cells.setdefault(("standard", row.batch), TABLE_BASE)
                cells[(row.variant, row.batch)] = cells[("standard", row.batch)] * row.published_speedup
        write_result(folder / f"{model}_tp{tp}_{p2p}.h5", cells, model=model, tp=int(tp), reps=3,
                     env={"NCCL_P2P_DISABLE": "1" if p2p == "off" else "0"})
    return reference


def test_published_numbers_compare_at_ratio_one_everywhere(tmp_path, capsys):
    reference = _write_published(tmp_path / "results")
    result = compare(cell_stats(load_results([tmp_path / "results"])), reference, 0.10)
    published = result[result["status"] != "unpublished"]
    assert len(published) == len(reference)  # every published cell was measured and matched
    assert (published["status"] == "ok").all()
    ratios = published[["tokens_ratio", "speedup_ratio"]].to_numpy().ravel()
    ratios = ratios[~np.isnan(ratios)]
    np.testing.assert_allclose(ratios, 1.0, atol=1e-3)  # published speedups are rounded to 3 decimals
    # Only the standard runs synthesized for speedup-only models lack a published counterpart.
    assert set(result.loc[result["status"] == "unpublished", "variant"]) == {"standard"}

    assert main(["compare", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "| mismatch |" not in out
    shown = [r for r in out.splitlines() if r.startswith("| ") and "| ok |" in r]
    assert len(shown) == len(reference)
    for line in shown:
        cells = [c.strip() for c in line.strip("|").split("|")]
        ratio_cells = [cells[i] for i in (7, 10)]  # tok/s ratio, speedup ratio
        assert all(c in ("1.00", "—") for c in ratio_cells) and "1.00" in ratio_cells


@pytest.mark.parametrize("tolerance, status", [(0.10, "mismatch"), (0.25, "ok")])
def test_cells_off_by_more_than_the_tolerance_are_flagged(tmp_path, tolerance, status):
    reference = load_reference()
    published = reference.set_index(["model", "tp", "batch", "p2p", "variant"])["published_tokens_per_s"]
    standard = published[("llama-3-70b", 8, 1, "on", "standard")]
    path = write_result(tmp_path / "a.h5", {("standard", 1): 0.8 * standard}, env={"NCCL_P2P_DISABLE": "0"})
    result = compare(cell_stats(load_results([path])), reference, tolerance)
    assert list(result["status"]) == [status]
    np.testing.assert_allclose(result["tokens_ratio"], 0.8)


def test_cells_without_published_counterpart_are_listed_as_such(tmp_path, capsys):
    path = write_result(tmp_path / "a.h5", {("standard", 2): 10.0, ("ladder", 2): 12.0}, model="demo-cpu",
                        tp=2, device="cpu", dtype="fp32", prompt_len=32, gen_len=16, link_latency_us=5.0)
    assert main(["compare", str(path), "--out-dir", str(tmp_path / "t"), "--format", "md,csv"]) == 0
    out = capsys.readouterr().out
    assert out.count("| unpublished |") == 2
    written = pd.read_csv(tmp_path / "t" / "compare.csv")
    assert list(written["status"]) == ["unpublished", "unpublished"]


def test_other_prompt_lengths_are_noted(tmp_path):
    path = write_result(tmp_path / "a.h5", {("standard", 1): 77.0}, prompt_len=128, env={"NCCL_P2P_DISABLE": "0"})
    result = compare(cell_stats(load_results([path])), load_reference(), 0.1)
    assert "prompt/gen 128/512 differ" in result.loc[0, "note"]


def test_a_cell_published_twice_uses_the_row_with_tokens_per_s():
    raw = pd.read_csv(DEFAULT_REFERENCE)
    reference = load_reference()
    twice = raw.groupby(["model", "tp", "batch", "p2p", "variant"]).filter(lambda g: len(g) > 1)
    for (model, tp, batch, p2p, variant), group in twice.groupby(["model", "tp", "batch", "p2p", "variant"]):
        row = reference[(reference["model"] == model) & (reference["tp"] == tp) & (reference["batch"] == batch)
                        & (reference["p2p"] == p2p) & (reference["variant"] == variant)].iloc[0]
        with_tokens = group.dropna(subset=["tokens_per_s"]).iloc[0]
        assert row["published_speedup"] == with_tokens["speedup_vs_standard"]
        assert "Table 1" in row["note"]
