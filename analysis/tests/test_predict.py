"""`predict` from a machine file or a calibration, the predicted columns of `table` and `plot`,
and `--reference` / `fit-paper` against the paper's published cells."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.compare import load_reference
from analysis.machine import Machine
from analysis.paper import FIT_CELLS, fit_paper, nelder_mead
from analysis.perfmodel import VARIANTS
from analysis.tests.calibrated import calibrated_files

PUBLIC = str(Path(__file__).resolve().parents[2] / "configs" / "machines" / "h100-sxm-public.json")


def test_table_compare_and_plot_gain_predictions_where_calibrated(tmp_path, capsys):
    calibrated_files(tmp_path, latencies=(0.0, 500.0, 1000.0))
    assert main(["table", str(tmp_path), "--out-dir", str(tmp_path / "t")]) == 0
    speedup = pd.read_csv(tmp_path / "t" / "speedup.csv")
    assert speedup["predicted_tokens_per_s"].notna().all()
    assert np.allclose(speedup["predicted_tokens_per_s"], speedup["tokens_per_s_median"])
    assert "ladder predicted speedup" in capsys.readouterr().out
    assert main(["plot", str(tmp_path), "--out-dir", str(tmp_path / "fig")]) == 0
    assert any(p.name.startswith("speedup_vs_link_toy") for p in (tmp_path / "fig").iterdir())
    # Without the all-reduce files a TP=2 cell has no calibration: no predicted column.
    (tmp_path / "ar0.h5").unlink()
    assert main(["table", str(tmp_path / "run0.h5"), "--out-dir", str(tmp_path / "t2")]) == 0
    assert "predicted" not in capsys.readouterr().out


def test_predict_from_a_machine_file_and_from_a_calibration(tmp_path, capsys):
    assert main(["predict", "--machine", PUBLIC, "--model", "llama-3-70b",
                 "--tp", "8", "--batch", "1,4", "--dtype", "bf16", "--out-dir", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "predict.csv")
    assert len(table) == 2 * len(VARIANTS) and set(table["batch"]) == {1, 4}
    assert (table.loc[table["variant"] == "upper-bound", "speedup"] > 1).all()
    # desync (default pattern) drops half the all-reduces: between standard and the upper bound.
    by = table.set_index(["batch", "variant"])["speedup"]
    for batch in (1, 4):
        assert 1 < by[(batch, "desync")] < by[(batch, "upper-bound")]
    calibrated_files(tmp_path, latencies=(500.0,))
    capsys.readouterr()
    assert main(["predict", "--calibrate", str(tmp_path / "run500.h5"), str(tmp_path / "ar0.h5"),
                 str(tmp_path / "ar500.h5"), "--variants", "standard,ladder"]) == 0
    out = capsys.readouterr().out
    assert "link_us=500.0" in out and "| toy | 2 | 1 | ladder |" in out
    assert main(["predict", "--model", "toy"]) == 2  # no machine


def test_paper_table_counts_held_out_speedups(tmp_path, capsys):
    assert main(["predict", "--machine", PUBLIC, "--reference",
                 "--out-dir", str(tmp_path)]) == 0
    assert "Held-out cells" in capsys.readouterr().out
    out = pd.read_csv(tmp_path / "predict-paper.csv")
    fit = (out["model"] == FIT_CELLS["model"]) & (out["tp"] == FIT_CELLS["tp"]) & (out["batch"] == FIT_CELLS["batch"])
    assert (out["fit"] == fit).all() and fit.sum() == 7
    assert not out.loc[out["variant"] == "standard", "speedup_tested"].any()


def test_the_fit_sees_only_the_70b_tp8_batch1_cells():
    reference = load_reference()
    spoiled = reference.copy()
    others = ~((spoiled["model"] == "llama-3-70b") & (spoiled["tp"] == 8) & (spoiled["batch"] == 1))
    spoiled.loc[others, "published_tokens_per_s"] *= 100
    base = Machine.from_json(PUBLIC)
    a, cells = fit_paper(base, reference, iterations=8)
    b, _ = fit_paper(base, spoiled, iterations=8)
    assert len(cells) == 7
    assert a.to_json() == b.to_json()


def test_nelder_mead_finds_a_minimum():
    x, value = nelder_mead(lambda v: (v[0] - 1) ** 2 + 3 * (v[1] + 2) ** 2 + 0.5, [0.0, 0.0])
    assert x == pytest.approx([1, -2], abs=1e-3) and value == pytest.approx(0.5, abs=1e-6)
