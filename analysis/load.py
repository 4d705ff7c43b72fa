"""Read ladderbench HDF5 result files (docs/results-format.md, format v1) into one tidy table.

One row per timing sample (run x repetition). Every root and run attribute becomes a column so
that provenance travels with each number; see analysis/README.md for the column list.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from .errors import AnalysisError, AnalysisWarning
from .models import canonical_model

FORMAT_NAME = "ladderbench"
FORMAT_VERSION = 1  # the newest format this reader understands

RUN_ATTRS = ("variant", "batch", "prompt_len", "gen_len", "tp", "warmup", "reps", "dtype", "model")
INT_RUN_ATTRS = ("batch", "prompt_len", "gen_len", "tp", "warmup", "reps")
SAMPLE_DATASETS = ("prefill_s", "decode_s", "tokens_per_s")
# Per-module breakdown (--breakdown): [reps, layers, 2] seconds per decode step; summed over layers
# and modules into one per-sample column, e.g. breakdown_wait_s = exposed communication per step.
BREAKDOWN_PREFIX = "breakdown_"
RESULT_SUFFIXES = (".h5", ".h5.partial")

# Columns this module creates itself; a root attribute with one of these names (or a run
# attribute's name) is stored as root_<name> so that it cannot overwrite them.
DERIVED_COLUMNS = ("file", "run", "rep", "model_attr", "p2p", "link", "total_s")
LEADING_COLUMNS = (
    "file", "run", "rep", "complete", "model", "variant", "tp", "batch", "prompt_len", "gen_len",
    "p2p", "link", "tokens_per_s", "prefill_s", "decode_s", "total_s",
)


class _BadRun(Exception):
    """A run group that lacks something; fatal in a complete file, skipped in a .partial one."""


def find_result_files(paths) -> list[Path]:
    """Files named on the command line as given; folders searched recursively for results."""
    found: dict[Path, None] = {}  # ordered set: a file named twice is read once
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(RESULT_SUFFIXES))
            if not matches:
                raise AnalysisError(f"{path}: folder holds no result files (*.h5, *.h5.partial)")
            found.update(dict.fromkeys(p.resolve() for p in matches))
        elif path.is_file():
            found[path.resolve()] = None
        else:
            raise AnalysisError(f"{path}: no such file or folder")
    return list(found)


def load_results(paths) -> pd.DataFrame:
    """The tidy sample table of every result file under `paths` (files or folders)."""
    return load_inventory(paths)[0]


def load_inventory(paths) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(samples, files): the tidy sample table and one row per file read (file, complete, runs),
    which also lists files that hold no run yet."""
    if not paths:
        raise AnalysisError("no result files or folders given")
    frames, files = [], []
    for path in find_result_files(paths):
        frame, complete = read_result_file(path)
        frames.append(frame)
        files.append({"file": _display_path(path), "complete": complete,
                      "runs": frame["run"].nunique() if len(frame) else 0})
    # Empty frames (files without runs) would turn every integer column into floats.
    table = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    rest = [c for c in table.columns if c not in LEADING_COLUMNS]
    return table.reindex(columns=list(LEADING_COLUMNS) + rest), pd.DataFrame(files)


def read_result_file(path: Path) -> tuple[pd.DataFrame, int]:
    """(sample rows, complete flag) of one file; AnalysisError naming the file if it is not a
    usable v1 file."""
    try:
        with h5py.File(path, "r") as h5:
            return _read_file(h5, Path(path))
    except AnalysisError:
        raise
    # h5py reports truncated, corrupt and non-HDF5 files as OSError (sometimes KeyError/ValueError
    # while reading objects); its first line already says what is wrong ("truncated file", ...).
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AnalysisError(f"{path}: not a readable HDF5 result file ({reason})") from None


def _read_file(h5: h5py.File, path: Path) -> tuple[pd.DataFrame, int]:
    root = {name: _attr_value(value) for name, value in h5.attrs.items()}
    _check_format(root, path)
    if root.get("kind", "inference") != "inference":
        # ladder-allreduce files share the format family but hold no inference runs; they calibrate
        # the performance model (analysis.calibrate), so they are expected next to results.
        if root["kind"] != "allreduce":
            warnings.warn(f"{path}: skipping a {root['kind']!r} file (not inference runs)", AnalysisWarning)
        return pd.DataFrame(), int(root.get("complete", 0))
    complete = int(root.get("complete", 0))
    provenance = {(f"root_{k}" if k in RUN_ATTRS or k in DERIVED_COLUMNS else k): v for k, v in root.items()}
    provenance["complete"] = complete
    provenance["p2p"] = _p2p_setting(root, path)
    provenance["link"] = _link_setting(root)

    runs = h5.get("runs")
    if runs is None and complete:
        warnings.warn(f"{path}: complete file without a /runs group (no measurements)", AnalysisWarning)
    rows = []
    for run_id in sorted(runs or ()):
        try:
            rows.extend(_read_run(runs[run_id], run_id, root, path))
        except _BadRun as exc:
            if complete:
                raise AnalysisError(f"{path}: run {run_id}: {exc}") from None
            # A killed job may leave the run it was writing half-done; the others are good.
            warnings.warn(f"{path}: skipping run {run_id} of this partial file: {exc}", AnalysisWarning)
    table = pd.DataFrame(rows)
    for name, value in provenance.items():
        table[name] = [value] * len(table)
    table["file"] = _display_path(path)
    return table, complete


def _display_path(path: Path) -> str:
    """Relative to the working directory when below it: shorter in tables, same file."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _check_format(root: dict, path: Path) -> None:
    if "format" not in root:
        raise AnalysisError(f"{path}: not a ladderbench result file (no root attribute 'format')")
    if root["format"] != FORMAT_NAME:
        raise AnalysisError(
            f"{path}: not a ladderbench result file (format is {root['format']!r}, expected {FORMAT_NAME!r})"
        )
    version = root.get("format_version")
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)):
        raise AnalysisError(f"{path}: root attribute 'format_version' missing or not an integer ({version!r})")
    if version > FORMAT_VERSION:
        raise AnalysisError(
            f"{path}: format_version {version} is newer than this reader supports ({FORMAT_VERSION}); "
            "update the analysis package"
        )
    if version < 1:
        raise AnalysisError(f"{path}: invalid format_version {version}")


def _read_run(group, run_id: str, root: dict, path: Path) -> list[dict]:
    if not isinstance(group, h5py.Group):
        raise _BadRun("is not a group")
    attrs = {name: _attr_value(value) for name, value in group.attrs.items()}
    missing = [name for name in RUN_ATTRS if name not in attrs]
    if missing:
        raise _BadRun(f"missing attribute(s) {', '.join(missing)}")
    try:
        for name in INT_RUN_ATTRS:
            attrs[name] = int(attrs[name])
    except (TypeError, ValueError):
        raise _BadRun(f"attribute {name}={attrs[name]!r} is not an integer") from None
    reps = attrs["reps"]

    samples = {}
    names = list(SAMPLE_DATASETS) + sorted(n for n in group if n.startswith(BREAKDOWN_PREFIX))
    for name in names:
        if name not in group:
            raise _BadRun(f"missing dataset {name}")
        values = np.asarray(group[name][()], dtype=np.float64)
        if name.startswith(BREAKDOWN_PREFIX) and values.ndim == 3 and values.shape[0] == reps:
            values = values.sum(axis=(1, 2))
        if values.shape != (reps,):
            if name.startswith(BREAKDOWN_PREFIX):
                # Only per-sample components fit the table; other layouts are not specified yet.
                warnings.warn(f"{path}: run {run_id}: ignoring {name} of shape {values.shape} (expected ({reps},))",
                              AnalysisWarning)
                continue
            raise _BadRun(f"dataset {name} has shape {values.shape}, expected ({reps},) for reps={reps}")
        samples[name] = values

    run = {k: v for k, v in attrs.items() if k not in DERIVED_COLUMNS}
    if "eval" in group:  # --eval-tokens: the variant's quality over a token stream, the same in every sample
        quality = group["eval"].attrs
        run["eval_nll"] = float(quality["nll_mean"])
        run["eval_perplexity"] = float(quality["perplexity"])
        run["eval_tokens"] = int(quality["scored_tokens"])
    run["model_attr"] = attrs["model"]
    run["model"] = canonical_model(attrs["model"] or root.get("model", ""))
    run["run"] = run_id
    return [
        {**run, "rep": rep, **{name: values[rep] for name, values in samples.items()},
         "total_s": samples["prefill_s"][rep] + samples["decode_s"][rep]}
        for rep in range(reps)
    ]


def _attr_value(value):
    """HDF5 attribute -> plain Python value; strings decoded, 1-element arrays unwrapped and
    string arrays (e.g. hostnames) joined with commas so that every column holds scalars."""
    if isinstance(value, bytes):  # fixed-length strings arrive as numpy.bytes_
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        items = [_attr_value(item) for item in value.ravel().tolist()]
        return items[0] if len(items) == 1 else ",".join(str(item) for item in items)
    if isinstance(value, np.generic):
        return _attr_value(value.item())
    return value


def _p2p_setting(root: dict, path: Path) -> str:
    """How ranks talk, in the reference table's vocabulary where possible.

    `on`/`off`: NCCL_P2P_DISABLE=0/1 as recorded in the root attribute `env` (JSON object of the
    job's relevant environment variables), honoured only for the nccl backend since nothing else
    reads it. Otherwise `emulated` when the app added an emulated link delay, else `on`: the
    default of both NCCL and MPI (direct transport, nothing added).
    """
    env_text = root.get("env")
    if env_text and root.get("backend", "nccl") == "nccl":
        try:
            env = json.loads(env_text)
        except (TypeError, ValueError):
            env = None
        if not isinstance(env, dict):
            warnings.warn(f"{path}: root attribute 'env' is not a JSON object; ignoring it", AnalysisWarning)
        elif "NCCL_P2P_DISABLE" in env:
            value = str(env["NCCL_P2P_DISABLE"]).strip().lower()
            return "on" if value in ("", "0", "false", "no") else "off"
    return "emulated" if int(root.get("link_emulated", 0) or 0) else "on"


def _link_setting(root: dict) -> str:
    """`native`, or the emulated link's parameters, so runs with different emulated links never
    share a table cell even though their p2p value (`emulated`) is the same."""
    if not int(root.get("link_emulated", 0) or 0):
        return "native"
    latency = float(root.get("link_latency_us", 0.0) or 0.0)
    bandwidth = float(root.get("link_bandwidth_gbps", 0.0) or 0.0)
    return f"emulated {latency:g} us" + (f", {bandwidth:g} Gbit/s" if bandwidth > 0 else "")
