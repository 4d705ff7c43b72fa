"""Files of another kind are refused with one clear message naming the file; the CLI exits 2."""
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.load import load_results
from analysis.tests.synth import write_result

CELLS = {("standard", 1): 100.0, ("ladder", 1): 150.0}
REPO = Path(__file__).resolve().parents[2]


def _foreign(path):
    with h5py.File(path, "a") as h5:
        h5.attrs["format"] = "otherbench"


def _no_format(path):
    with h5py.File(path, "a") as h5:
        del h5.attrs["format"]


def _newer(path):
    with h5py.File(path, "a") as h5:
        h5.attrs["format_version"] = np.int64(2)


def _truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _not_hdf5(path):
    path.write_text("model,tp\nllama,8\n")


def _missing_dataset(path):
    with h5py.File(path, "a") as h5:
        del h5["runs/r0001/decode_s"]


def _wrong_length(path):
    with h5py.File(path, "a") as h5:
        del h5["runs/r0000/prefill_s"]
        h5["runs/r0000/prefill_s"] = np.ones(2)


def _missing_attribute(path):
    with h5py.File(path, "a") as h5:
        del h5["runs/r0000"].attrs["batch"]


@pytest.mark.parametrize("damage, message", [
    (_foreign, "format is 'otherbench'"),
    (_no_format, "no root attribute 'format'"),
    (_newer, "format_version 2 is newer"),
    (_truncated, "not a readable HDF5"),
    (_not_hdf5, "not a readable HDF5"),
    (_missing_dataset, "run r0001: missing dataset decode_s"),
    (_wrong_length, "run r0000: dataset prefill_s has shape (2,)"),
    (_missing_attribute, "run r0000: missing attribute(s) batch"),
])
def test_bad_files_are_refused_naming_file_and_problem(tmp_path, capsys, damage, message):
    path = write_result(tmp_path / "bad.h5", CELLS)
    damage(path)
    with pytest.raises(AnalysisError) as error:
        load_results([path])
    assert str(path) in str(error.value) and message in str(error.value)
    assert main(["table", str(path), "--out-dir", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_missing_path_and_empty_folder(tmp_path, capsys):
    assert main(["load", str(tmp_path / "nope.h5")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["load", str(tmp_path)]) == 2
    assert "holds no result files" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["table", "{f}", "--format", "md,docx"], "--format 'md,docx'"),
    (["compare", "{f}", "--tolerance", "-1"], "--tolerance -1"),
    (["compare", "{f}", "--reference", "{tmp}/none.csv"], "cannot read the reference table"),
])
def test_bad_options_are_errors_not_tracebacks(tmp_path, capsys, argv, message):
    path = write_result(tmp_path / "a.h5", CELLS)
    argv = [a.format(f=path, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_real_process_exits_2_without_traceback(tmp_path):
    path = write_result(tmp_path / "cut.h5", CELLS)
    _truncated(path)
    done = subprocess.run([sys.executable, "-m", "analysis", "table", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {path}: not a readable HDF5 result file")
    assert "Traceback" not in done.stderr and done.stdout == ""
