"""Reading result files into the tidy sample table."""
import h5py
import numpy as np
import pytest

from analysis.cli import main
from analysis.errors import AnalysisWarning
from analysis.load import load_results
from analysis.tests.synth import samples, write_result

CELLS = {("standard", 1): 100.0, ("ladder", 1): 150.0, ("standard", 4): 300.0}


def test_one_row_per_sample_with_run_and_root_columns(tmp_path):
    path = write_result(tmp_path / "a.h5", CELLS, reps=4)
    table = load_results([path])
    assert len(table) == len(CELLS) * 4
    for column in ("prefill_s", "decode_s", "tokens_per_s", "rep", "variant", "batch", "tp", "warmup",
                   "reps", "dtype", "git_sha", "hostnames", "versions", "world_size", "complete", "p2p", "link"):
        assert column in table.columns, column
    ladder = table[(table["variant"] == "ladder")].sort_values("rep")
    np.testing.assert_allclose(ladder["tokens_per_s"], samples(150.0, 4, 0.02))
    assert list(ladder["rep"]) == [0, 1, 2, 3]
    np.testing.assert_allclose(ladder["total_s"], ladder["prefill_s"] + ladder["decode_s"])
    # The root attribute that shares a run attribute's name keeps its value under root_<name>.
    assert set(table["root_model"]) == {"llama-3-70b"}
    assert set(table["hostnames"]) == {",".join(["node0"] * 8)}


def test_folders_are_searched_recursively_and_partial_files_are_flagged(tmp_path):
    write_result(tmp_path / "sweep" / "done.h5", CELLS)
    write_result(tmp_path / "sweep" / "deep" / "killed.h5.partial", {("ladder", 8): 10.0}, complete=False)
    (tmp_path / "sweep" / "notes.txt").write_text("not a result")
    table = load_results([tmp_path / "sweep"])
    complete = table.groupby("file")["complete"].first()
    assert sorted(complete.values) == [0, 1]
    assert (table.loc[table["file"].str.endswith(".partial"), "batch"] == 8).all()


def test_a_file_named_twice_is_read_once(tmp_path):
    path = write_result(tmp_path / "a.h5", CELLS)
    assert len(load_results([path, tmp_path])) == len(load_results([path]))


@pytest.mark.parametrize("kwargs, expected", [
    (dict(env={"NCCL_P2P_DISABLE": "1"}), ("off", "native")),
    (dict(env={"NCCL_P2P_DISABLE": "0"}), ("on", "native")),
    (dict(env={"OMP_NUM_THREADS": "4"}), ("on", "native")),
    (dict(), ("on", "native")),
    (dict(link_latency_us=5.0, link_bandwidth_gbps=25.0), ("emulated", "emulated 5 us, 25 Gbit/s")),
    (dict(link_latency_us=2.5), ("emulated", "emulated 2.5 us")),
    # MPI ignores NCCL variables, so a CPU run with one in its environment is not "P2P off".
    (dict(env={"NCCL_P2P_DISABLE": "1"}, device="cpu"), ("on", "native")),
])
def test_p2p_and_link_settings(tmp_path, kwargs, expected):
    table = load_results([write_result(tmp_path / "a.h5", CELLS, **kwargs)])
    assert set(zip(table["p2p"], table["link"])) == {expected}


def test_fixed_length_strings_read_like_variable_length_ones(tmp_path):
    fixed = load_results([write_result(tmp_path / "f.h5", CELLS, fixed_strings=True)])
    vlen = load_results([write_result(tmp_path / "v.h5", CELLS)])
    for column in ("variant", "model", "dtype", "device", "format", "git_sha"):
        assert list(fixed[column]) == list(vlen[column])


@pytest.mark.parametrize("attribute, canonical", [
    ("llama-3-70b", "llama-3-70b"), ("configs/Meta-Llama-3-70B/", "llama-3-70b"), ("70b", "llama-3-70b"),
    ("llama3.1-405b", "llama-3.1-405b"), ("demo-cpu", "demo-cpu"),
])
def test_model_names_are_mapped_to_the_reference_spelling(tmp_path, attribute, canonical):
    table = load_results([write_result(tmp_path / "a.h5", CELLS, model=attribute)])
    assert set(table["model"]) == {canonical}
    assert set(table["model_attr"]) == {attribute}


def test_half_written_run_of_a_partial_file_is_skipped_with_a_warning(tmp_path):
    path = write_result(tmp_path / "a.h5.partial", CELLS, complete=False)
    with h5py.File(path, "a") as h5:
        del h5["runs/r0002/tokens_per_s"]
    with pytest.warns(AnalysisWarning, match="r0002"):
        table = load_results([path])
    assert sorted(table["run"].unique()) == ["r0000", "r0001"]


def test_breakdown_datasets_become_columns(tmp_path):
    table = load_results([write_result(tmp_path / "a.h5", CELLS, breakdown={"comm_s": 0.25})])
    np.testing.assert_allclose(table["breakdown_comm_s"], 0.25 * table["total_s"])


def test_a_partial_file_without_runs_is_listed_but_holds_no_samples(tmp_path, capsys):
    empty = write_result(tmp_path / "killed.h5.partial", {}, complete=False)
    full = write_result(tmp_path / "done.h5", CELLS)
    assert main(["load", str(empty), str(full)]) == 0
    assert f"2 file(s), {len(CELLS)} run(s)" in capsys.readouterr().out
    assert load_results([empty, full])["tp"].dtype.kind == "i"  # the empty file changes no dtype
    assert main(["table", str(empty), "--out-dir", str(tmp_path / "t")]) == 2
    assert "no measured run" in capsys.readouterr().err
