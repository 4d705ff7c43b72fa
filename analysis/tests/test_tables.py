"""Speedup and breakdown arithmetic; expectations derived from the synthesized inputs."""
import numpy as np
import pandas as pd

from analysis.cells import cell_stats
from analysis.load import load_results
from analysis.render import MISSING, number, to_markdown
from analysis.tables import breakdown_table, speedup_table, write_tables
from analysis.tests.synth import samples, write_result


def _stats(*paths):
    return cell_stats(load_results(list(paths)))


def _row(stats, **where):
    mask = np.logical_and.reduce([stats[k] == v for k, v in where.items()])
    assert mask.sum() == 1, where
    return stats[mask].iloc[0]


def test_ladder_twice_as_fast_is_speedup_2(tmp_path):
    standard = 123.4
    stats = _stats(write_result(tmp_path / "a.h5", {("standard", 4): standard, ("ladder", 4): 2 * standard}))
    assert _row(stats, variant="ladder")["speedup"] == 2.0
    assert _row(stats, variant="standard")["speedup"] == 1.0
    # Each repetition's ladder sample is twice standard's of the same repetition: the paired
    # interval has no width.
    ladder = _row(stats, variant="ladder")
    assert ladder[["speedup_ci_low", "speedup_ci_high"]].tolist() == [2.0, 2.0]
    table = speedup_table(stats)
    assert table.display.loc[0, "ladder speedup"] == "2.00 [2.00, 2.00]"
    assert "| 2.00 [2.00, 2.00] |" in to_markdown(table)


def test_median_and_interquartile_range_of_the_samples(tmp_path):
    reps, spread = 7, 0.1
    stats = _stats(write_result(tmp_path / "a.h5", {("standard", 1): 50.0}, reps=reps, spread=spread))
    row = _row(stats, variant="standard")
    values = samples(50.0, reps, spread)
    assert row["n"] == reps
    np.testing.assert_allclose(row[["tokens_per_s_median", "tokens_per_s_q1", "tokens_per_s_q3"]].astype(float),
                               np.percentile(values, [50, 25, 75]))
    np.testing.assert_allclose(row[["tokens_per_s_min", "tokens_per_s_max"]].astype(float),
                               [values.min(), values.max()])


def test_cells_without_standard_or_without_a_variant_show_a_dash(tmp_path):
    stats = _stats(
        write_result(tmp_path / "a.h5", {("ladder", 1): 80.0, ("standard", 4): 100.0, ("upper-bound", 4): 130.0}))
    assert np.isnan(_row(stats, batch=1, variant="ladder")["speedup"])
    display = speedup_table(stats).display.set_index("batch")
    assert display.loc[1, "ladder speedup"] == MISSING
    assert display.loc[1, "standard tok/s"] == MISSING
    assert display.loc[4, "ladder tok/s"] == MISSING
    assert display.loc[4, "upper-bound speedup"].startswith(f"{130.0 / 100.0:.2f} [")


def test_samples_of_one_cell_from_several_files_are_pooled(tmp_path):
    cells = {("standard", 1): 100.0, ("ladder", 1): 150.0}
    stats = _stats(write_result(tmp_path / "a.h5", cells, reps=3), write_result(tmp_path / "b.h5", cells, reps=5))
    assert set(stats["n"]) == {8}


def test_different_settings_never_share_a_cell(tmp_path):
    stats = _stats(write_result(tmp_path / "on.h5", {("standard", 1): 100.0}, env={"NCCL_P2P_DISABLE": "0"}),
                   write_result(tmp_path / "off.h5", {("standard", 1): 60.0}, env={"NCCL_P2P_DISABLE": "1"}),
                   write_result(tmp_path / "emu.h5", {("standard", 1): 40.0}, link_latency_us=10.0),
                   write_result(tmp_path / "short.h5", {("standard", 1): 90.0}, prompt_len=128))
    assert len(stats) == 4
    table = speedup_table(stats)
    assert {"link", "prompt_len"} <= set(table.display.columns)  # shown because they vary
    assert "device" not in table.display.columns and any("device=" in n for n in table.notes)


def test_eval_nll_and_perplexity_beside_the_speedup(tmp_path):
    nll = {"standard": 2.0, "ladder": 2.5}
    stats = _stats(write_result(tmp_path / "a.h5", {("standard", 1): 100.0, ("ladder", 1): 120.0,
                                                    ("upper-bound", 1): 150.0}, eval_nll=nll))
    assert _row(stats, variant="ladder")["eval_nll"] == 2.5
    assert _row(stats, variant="standard")["eval_perplexity"] == np.exp(2.0)
    table = speedup_table(stats)
    assert table.display.loc[0, "ladder NLL (ppl)"] == f"2.5000 ({number(np.exp(2.5))})"
    assert table.display.loc[0, "upper-bound NLL (ppl)"] == MISSING  # no eval for this run
    assert "eval_nll" in table.data and "NLL" in table.notes[1]
    # Without --eval-tokens no quality column appears.
    plain = speedup_table(_stats(write_result(tmp_path / "b.h5", {("standard", 1): 100.0})))
    assert not any("NLL" in c for c in plain.display.columns)


def test_breakdown_table_medians(tmp_path):
    batch, gen_len, tps, reps = 4, 64, 200.0, 5
    stats = _stats(write_result(tmp_path / "a.h5", {("standard", batch): tps}, gen_len=gen_len, reps=reps,
                                breakdown={"comm_s": 0.4}))
    data = breakdown_table(stats).data.iloc[0]
    total = batch * gen_len / samples(tps, reps, 0.02)
    np.testing.assert_allclose(data["prefill_s_median"], np.median(0.1 * total))
    np.testing.assert_allclose(data["decode_step_ms"], 1e3 * np.median(0.9 * total) / (gen_len - 1))
    np.testing.assert_allclose(data["breakdown_comm_s_median"], np.median(0.4 * total))


def test_written_files_carry_the_same_numbers(tmp_path):
    stats = _stats(write_result(tmp_path / "a.h5", {("standard", 1): 100.0, ("ladder", 1): 125.0}))
    written = write_tables(stats, tmp_path / "tables", ["md", "csv", "tex"])
    assert sorted(p.name for p in written) == sorted(
        f"{t}.{f}" for t in ("speedup", "breakdown") for f in ("md", "csv", "tex"))
    csv = pd.read_csv(tmp_path / "tables" / "speedup.csv")
    np.testing.assert_allclose(csv.set_index("variant").loc["ladder", "speedup"], 1.25)
    tex = (tmp_path / "tables" / "speedup.tex").read_text()
    assert r"\begin{tabular}" in tex and "1.25" in tex and "prompt\\_len" in tex
