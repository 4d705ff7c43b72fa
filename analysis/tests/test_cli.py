"""The subcommands as users and the CPU demo call them."""
import pandas as pd

from analysis.cli import main
from analysis.tests.synth import write_result

CELLS = {("standard", 1): 20.0, ("ladder", 1): 30.0, ("standard", 2): 35.0, ("ladder", 2): 49.0}


def _demo(folder, tp):
    return write_result(folder / f"demo_tp{tp}.h5", CELLS, model="demo-cpu", tp=tp, device="cpu", dtype="fp32",
                        prompt_len=32, gen_len=16, reps=3)


def test_table_prints_the_markdown_speedup_table_and_writes_files(tmp_path, capsys):
    path = _demo(tmp_path, 2)
    assert main(["table", str(path), "--out-dir", str(tmp_path / "tables")]) == 0
    out = capsys.readouterr().out
    assert "| model | tp | batch | p2p | standard tok/s | ladder tok/s | ladder speedup |" in out
    assert f"| {30.0 / 20.0:.2f} [" in out and f"| {49.0 / 35.0:.2f} [" in out
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "breakdown.csv", "breakdown.md", "breakdown.tex", "speedup.csv", "speedup.md", "speedup.tex"]


def test_table_format_option_limits_the_files(tmp_path):
    assert main(["table", str(_demo(tmp_path, 2)), "--out-dir", str(tmp_path / "t"), "--format", "csv"]) == 0
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["breakdown.csv", "speedup.csv"]


def test_load_writes_the_tidy_table(tmp_path, capsys):
    _demo(tmp_path / "r", 1)
    _demo(tmp_path / "r", 2)
    assert main(["load", str(tmp_path / "r"), "--csv", str(tmp_path / "samples.csv")]) == 0
    assert "2 file(s), 8 run(s), 24 sample(s)" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "samples.csv")
    assert len(table) == 2 * len(CELLS) * 3
    assert {"prefill_s", "decode_s", "tokens_per_s", "rep", "p2p", "git_sha"} <= set(table.columns)


def test_report_fills_tables_and_figures(tmp_path, capsys):
    results = tmp_path / "results"
    _demo(results / "cpu", 1)
    _demo(results / "cpu", 2)
    assert main(["report", str(results)]) == 0
    assert "measured cells" in capsys.readouterr().out
    tables = {p.name for p in (results / "tables").iterdir()}
    assert {"speedup.md", "breakdown.csv", "compare.md", "compare.tex"} <= tables
    figures = {p.name for p in (results / "figures").iterdir()}
    assert any(n.startswith("tokens_vs_tp") and n.endswith(".png") for n in figures)
    assert any(n.startswith("speedup_vs_batch") and n.endswith(".pdf") for n in figures)
