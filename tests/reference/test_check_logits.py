"""Tests of check_logits.py on hand-built results files: what passes, fails, is skipped, and the
exit codes the acceptance tests rely on (0 pass, 1 fail or nothing checked, 2 unreadable)."""
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pytest

import check_logits
import hf_checkpoint
import llama_ref

SHAPE = dict(hidden=32, intermediate=64, layers=2, heads=4, kv_heads=2, vocab=40)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return hf_checkpoint.write_checkpoint(tmp_path_factory.mktemp("ckpt"), **SHAPE, dtype="bf16", seed=5)


@pytest.fixture(scope="module")
def model(ckpt):
    return llama_ref.LlamaRef.from_checkpoint(ckpt)


PROMPT = np.random.default_rng(11).integers(0, SHAPE["vocab"], size=(3, 6)).astype(np.int32)


def write_results(path, runs):
    """runs: list of (attrs, datasets) written as /runs/r0000, r0001, ... like ladder-bench does."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "ladderbench"
        f.attrs["format_version"] = np.int64(1)
        for i, (attrs, data) in enumerate(runs):
            g = f.create_group(f"runs/r{i:04d}")
            for k, v in attrs.items():
                g.attrs[k] = v
            for k, v in data.items():
                g[k] = v
    return path


def run(model, variant, tp=1, ladder_layers=None, logits=None, tokens=0):
    """A run group whose logits (and `tokens` greedy tokens) are the reference's, in float32."""
    attrs = {"variant": variant, "tp": np.int64(tp), "batch": np.int64(len(PROMPT))}
    if ladder_layers is not None:
        attrs["ladder_layers"] = np.int64(ladder_layers)
    n = ladder_layers or 0
    data = {"prompt": PROMPT,
            "logits": (model.logits(PROMPT, variant, n) if logits is None else logits).astype(np.float32)}
    if tokens:
        data["tokens"] = model.generate(PROMPT, tokens, variant, n).astype(np.int32)
    return attrs, data


def check(ckpt, results, *extra):
    return check_logits.main(["--checkpoint", str(ckpt), "--results", str(results), *extra])


def test_matching_runs_pass_and_others_are_skipped(ckpt, model, tmp_path, capsys):
    junk = np.zeros((len(PROMPT), SHAPE["vocab"]))
    fixed_len = run(model, "standard")
    fixed_len[0]["variant"] = np.bytes_(b"standard")  # a fixed-length HDF5 string reads back as bytes
    results = write_results(tmp_path / "r.h5", [
        fixed_len,
        run(model, "ladder"),
        run(model, "parallel"),
        run(model, "hybrid-ladder", ladder_layers=1),
        run(model, "upper-bound"),
        ({"variant": "standard", "tp": np.int64(1)}, {"prompt": PROMPT}),  # no logits: ignored
        run(model, "upper-bound", tp=2, logits=junk),  # meaningless at tp > 1: skipped
        run(model, "some-future-variant", logits=junk),  # no reference: skipped
    ])
    assert check(ckpt, results) == 0
    out = capsys.readouterr().out
    assert out.count(" PASS") == 5 and out.count(" SKIP") == 2 and "5/5 runs pass" in out


def test_wrong_logits_fail(ckpt, model, tmp_path, capsys):
    # ladder run holding standard's logits: the variants differ, so this must be caught
    results = write_results(tmp_path / "r.h5", [run(model, "standard"),
                                                run(model, "ladder", logits=model.logits(PROMPT, "standard"))])
    assert check(ckpt, results) == 1
    out = capsys.readouterr().out
    assert "ladder" in out.splitlines()[1] and out.splitlines()[1].endswith("FAIL")
    # ... and a loose enough tolerance lets it through
    assert check(ckpt, results, "--tol", "10") == 0


def test_hybrid_ladder_layers_from_attribute_or_option(ckpt, model, tmp_path, capsys):
    attrs, data = run(model, "hybrid-ladder", ladder_layers=1)
    del attrs["ladder_layers"]
    results = write_results(tmp_path / "r.h5", [(attrs, data)])
    assert check(ckpt, results) == 1  # N unknown
    assert check(ckpt, results, "--ladder-layers", "1") == 0
    assert check(ckpt, results, "--ladder-layers", "2") == 1  # N=2 is full ladder, a different function
    assert check(ckpt, results, "--ladder-layers", "3") == 1  # more ladder layers than layers


def test_tokens_checked_with_teacher_forcing(ckpt, model, tmp_path, capsys):
    attrs, data = run(model, "ladder", tokens=4)
    good = write_results(tmp_path / "good.h5", [(attrs, data)])
    assert check(ckpt, good, "--tokens") == 0
    assert "bad_tokens=0/12" in capsys.readouterr().out
    data = dict(data, tokens=data["tokens"].copy())
    data["tokens"][1, -1] = (data["tokens"][1, -1] + 1) % SHAPE["vocab"]  # the last: nothing depends on it
    bad = write_results(tmp_path / "bad.h5", [(attrs, data)])
    assert check(ckpt, bad) == 0  # tokens are only checked on request
    assert check(ckpt, bad, "--tokens") == 1
    assert "bad_tokens=1/12" in capsys.readouterr().out


def test_no_logits_or_unreadable_file(ckpt, tmp_path):
    assert check(ckpt, write_results(tmp_path / "empty.h5", [])) == 1
    (tmp_path / "junk.h5").write_text("not hdf5")
    assert check(ckpt, tmp_path / "junk.h5") == 2
    assert check(ckpt, tmp_path / "missing.h5") == 2
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["format"] = "something-else"
    assert check(ckpt, tmp_path / "other.h5") == 2


def test_command_line(ckpt, model, tmp_path):
    results = write_results(tmp_path / "r.h5", [run(model, "standard")])
    script = pathlib.Path(check_logits.__file__)
    p = subprocess.run([sys.executable, str(script), "--checkpoint", str(ckpt), "--results", str(results)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "r0000 standard" in p.stdout and "PASS" in p.stdout
