"""Figures are written as non-empty PNG and PDF files, and absent data is skipped quietly."""
from analysis.cells import cell_stats
from analysis.cli import main
from analysis.load import load_results
from analysis.plots import plot_all
from analysis.tests.synth import write_result


def _sweep(folder, breakdown, batches=(1, 4)):
    """llama-3-70b at TP 2 and 4 (TP and batch axes) and llama-3-8b at TP 2, batch 1 only (the
    second model of the model-size axis): every figure kind, as few figures as possible."""
    factors = (("standard", 1.0), ("ladder", 1.2), ("upper-bound", 1.3))
    for tp in (2, 4):
        cells = {(v, b): 100.0 * tp * b ** 0.8 * f for v, f in factors for b in batches}
        write_result(folder / f"70b_tp{tp}.h5", cells, tp=tp, reps=3, prompt_len=16, gen_len=8, breakdown=breakdown)
    write_result(folder / "8b_tp2.h5", {(v, 1): 300.0 * f for v, f in factors}, model="llama-3-8b", tp=2, reps=3,
                 prompt_len=16, gen_len=8, breakdown=breakdown)
    return folder


def _check(paths):
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 1000, path
        assert data.startswith(b"\x89PNG" if path.suffix == ".png" else b"%PDF"), path


def test_every_figure_kind_is_written(tmp_path):
    stats = cell_stats(load_results([_sweep(tmp_path / "r", breakdown={"comm_s": 0.3, "compute_s": 0.6})]))
    written = plot_all(stats, tmp_path / "fig")
    _check(written)
    kinds = ("tokens_vs_tp", "speedup_vs_batch", "speedup_vs_model", "breakdown")
    assert {next(k for k in kinds if p.name.startswith(k)) for p in written} == set(kinds)
    assert {p.suffix for p in written} == {".png", ".pdf"}


def test_without_breakdown_datasets_the_breakdown_figure_is_skipped(tmp_path):
    stats = cell_stats(load_results([_sweep(tmp_path / "r", breakdown=None, batches=(1,))]))
    written = plot_all(stats, tmp_path / "fig")
    _check(written)
    assert written and not any(p.name.startswith("breakdown") for p in written)


def test_a_single_cell_gives_no_figure_and_no_error(tmp_path, capsys):
    path = write_result(tmp_path / "a.h5", {("standard", 1): 10.0, ("ladder", 1): 12.0})
    assert main(["plot", str(path), "--out-dir", str(tmp_path / "fig")]) == 0
    assert "no figure" in capsys.readouterr().err
    assert not (tmp_path / "fig").exists()
