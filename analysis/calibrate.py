"""Machine descriptions from measurements: a `ladder-bench --roofline` results file (STREAM triad,
the GEMM ceiling and the run's own GEMM shapes in /roofline/gemm) and `ladder-allreduce` files
(all-reduce time per size, interference from the async overlap, the emulated link's
overshoot). docs/measurement.md, "Performance model", says what each number becomes.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import h5py
import numpy as np

from .errors import AnalysisError, AnalysisWarning
from .load import find_result_files
from .machine import IN_STEP, AllReduceTable, Machine


@dataclass
class AllReduceRun:
    """One ladder-allreduce file: blocking p50 time per size, async overlap per size."""

    path: Path
    ranks: int
    link_latency_us: float
    link_bandwidth_gbps: float
    bytes: np.ndarray
    time_s: np.ndarray
    overlap_pct: np.ndarray | None
    cpu_model: str
    start_s: np.ndarray | None = None  # blocking: the part inside start_allreduce (newer apps)

    def link_delay_s(self, nbytes):
        """LinkModel::delay_s at this file's emulated link."""
        if self.ranks <= 1:
            return np.zeros_like(nbytes, dtype=float)
        bw = (2.0 * (self.ranks - 1) / self.ranks * nbytes * 8 / (self.link_bandwidth_gbps * 1e9)
              if self.link_bandwidth_gbps > 0 else 0.0)
        return self.link_latency_us * 1e-6 + bw


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def file_kind(path: Path) -> str:
    try:
        with h5py.File(path, "r") as h5:
            return _text(h5.attrs.get("kind", "inference"))
    except OSError:
        return "unreadable"


def world_size_of(path: Path) -> int:
    with h5py.File(path, "r") as h5:
        return int(h5.attrs.get("world_size", 1))


def find_allreduce_files(paths) -> list[Path]:
    """The ladder-allreduce files among the given files and folders."""
    return [p for p in find_result_files(paths) if file_kind(p) == "allreduce"]


def read_allreduce(path: Path) -> AllReduceRun:
    try:
        with h5py.File(path, "r") as h5:
            if _text(h5.attrs.get("kind", "")) != "allreduce":
                raise AnalysisError(f"{path}: not a ladder-allreduce file (root attribute kind != 'allreduce')")
            if "allreduce/blocking" not in h5:
                raise AnalysisError(f"{path}: no /allreduce/blocking group (run ladder-allreduce with --mode "
                                    "blocking or both)")
            blocking = h5["allreduce/blocking"]
            overlap = None
            if "allreduce/async" in h5:
                a = h5["allreduce/async"]
                if np.array_equal(a["bytes"][()], blocking["bytes"][()]):
                    overlap = np.asarray(a["overlap_pct"][()], float)
            return AllReduceRun(
                path=Path(path), ranks=int(h5.attrs["world_size"]),
                link_latency_us=float(h5.attrs.get("link_latency_us", 0.0)) if int(h5.attrs.get("link_emulated", 0)) else 0.0,
                link_bandwidth_gbps=float(h5.attrs.get("link_bandwidth_gbps", 0.0)) if int(h5.attrs.get("link_emulated", 0)) else 0.0,
                bytes=np.asarray(blocking["bytes"][()], float), time_s=np.asarray(blocking["time_p50_s"][()], float),
                overlap_pct=overlap, cpu_model=_text(h5.attrs.get("cpu_model", "")),
                start_s=np.asarray(blocking["start_p50_s"][()], float) if "start_p50_s" in blocking else None)
    except AnalysisError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise AnalysisError(f"{path}: not a readable ladder-allreduce file ({exc})") from None


def allreduce_calibration(runs: list[AllReduceRun]) -> tuple[list[AllReduceTable], float | None, dict]:
    """(tables at link 0 per rank count, overshoot or None, overshoot per emulated latency).

    Several link-0 files at one rank count are pooled (median time and overlap per size, over
    the sizes all of them measured). The overshoot is the median over every emulated-link file
    and size of time - link delay - the link-0 time of that size (what a wait until the
    emulated link's end takes beyond it), floored at 0; per latency (µs) the same over the
    files of that latency alone (a longer wait may end later: the model takes the cell's own
    latency's where there is one).
    """
    tables = []
    for ranks in sorted({r.ranks for r in runs}):
        base = [r for r in runs if r.ranks == ranks and r.link_latency_us == 0 and r.link_bandwidth_gbps == 0]
        if not base:
            continue
        sizes = sorted(set.intersection(*(set(r.bytes.tolist()) for r in base)))
        if not sizes:
            continue

        def at(r, values):
            return np.asarray([values[np.flatnonzero(r.bytes == s)[0]] for s in sizes])

        time_s = np.median([at(r, r.time_s) for r in base], axis=0)
        with_start = [r for r in base if r.start_s is not None]
        start_s = np.median([at(r, r.start_s) for r in with_start], axis=0) if with_start else np.zeros(len(sizes))
        with_async = [r for r in base if r.overlap_pct is not None]
        interference = None
        if with_async:
            # The async mode's cost of an overlapped all-reduce, (1 - overlap) r, includes its hand-off
            # h, which the model charges on its own: the rest costs (iota r - h) / (r - h) of itself.
            iota = 1 - np.median([at(r, r.overlap_pct) for r in with_async], axis=0) / 100
            rest = np.maximum(time_s - start_s, 1e-12)
            interference = np.clip((iota * time_s - start_s) / rest, 0, 1).tolist()
        tables.append(AllReduceTable(ranks=ranks, bytes=list(map(float, sizes)), time_s=time_s.tolist(),
                                     interference=interference, start_s=start_s.tolist() if with_start else None))
    excess, by_latency = [], {}
    for r in runs:
        table = next((t for t in tables if t.ranks == r.ranks), None)
        if table is None or (r.link_latency_us == 0 and r.link_bandwidth_gbps == 0):
            continue
        base = np.asarray([table.time(b) for b in r.bytes])
        e = (r.time_s - r.link_delay_s(r.bytes) - base).tolist()
        excess.extend(e)
        if r.link_bandwidth_gbps == 0:
            by_latency.setdefault(float(r.link_latency_us), []).extend(e)
    overshoot = max(0.0, float(np.median(excess))) if excess else None
    return tables, overshoot, {lat: max(0.0, float(np.median(e))) for lat, e in sorted(by_latency.items())}


def _gemm_table(h5_or_group) -> list:
    """Rows [m, n, k, decode, seconds per call (median)] of /roofline/gemm (given the file) or of
    a group with the same columns."""
    if "m" in h5_or_group:
        g = h5_or_group
    elif "roofline/gemm" in h5_or_group:
        g = h5_or_group["roofline/gemm"]
    else:
        return []
    cols = [np.asarray(g[name][()]) for name in ("m", "n", "k", "decode", "time_s")]
    return [[int(m), int(n), int(k), int(dec), float(t)] for m, n, k, dec, t in zip(*cols)]


def _one_row_per_shape(rows: list) -> list:
    """Kinds that share a shape (e.g. QKV and down_proj when both are d x d) as one row: their mean."""
    by_shape: dict[tuple, list] = {}
    for r in rows:
        by_shape.setdefault(tuple(r[:4]), []).append(r[4])
    return [[*k, float(np.mean(v))] for k, v in by_shape.items()]


@dataclass
class StepCalibration:
    """One cell's own calibration: [m, n, k, decode, seconds] GEMM rows, [kernel, decode, rows,
    keys, seconds] rows of the other kernels of the replayed decode step and prefill, and at TP > 1
    its measurements of a decode all-reduce of `allreduce_bytes` (0: none) as a step meets it, by
    Machine key (IN_STEP), each only where the file has it (the wait through the emulated link also
    only with one)."""

    gemms: list
    kernels: list = field(default_factory=list)
    allreduce_bytes: int = 0
    in_step: dict = field(default_factory=dict)  # {Machine key: seconds}


def _kernel_table(group) -> list:
    """Rows [kernel, decode, rows, keys (attention; else 0), seconds per call (median)] of a cell
    calibration's kernel/decode/* and kernel/prefill/* groups; [] for one without them (an app
    before them)."""
    return [[name, int(phase == "decode"), int(k.attrs["rows"]), int(k.attrs.get("keys", 0)), float(k.attrs["time_s"])]
            for phase in ("decode", "prefill") if f"kernel/{phase}" in group
            for name, k in group[f"kernel/{phase}"].items()]


def step_calibrations(path: Path) -> dict:
    """The cells' own calibrations in a results file (`ladder-bench --roofline`: each cell's decode
    and prefill GEMMs timed on the model's own weights between its generations, and the decode
    all-reduce as a step meets it, /roofline/step/c*), as StepCalibration by (batch, prompt_len, gen_len);
    {} for a file without them (an app before them)."""
    tables = {}
    with h5py.File(path, "r") as h5:
        if "roofline/step" not in h5:
            return tables
        for group in h5["roofline/step"].values():
            key = tuple(int(group.attrs[a]) for a in ("batch", "prompt_len", "gen_len"))
            in_step = {name: float(group.attrs[a]) for name, a in IN_STEP.items() if a in group.attrs}
            if in_step.get("allreduce_wait_link_in_step", 1.0) <= 0:
                del in_step["allreduce_wait_link_in_step"]  # no emulated link
            tables[key] = StepCalibration(_one_row_per_shape(_gemm_table(group)), _kernel_table(group),
                                          int(group.attrs.get("allreduce_bytes", 0)), in_step)
    return tables


def with_step_calibration(machine: Machine, step: StepCalibration, label: str) -> Machine:
    """`machine` with its GEMM table's rows of the same (m, n, k, decode) and its kernel table's of
    the same (kernel, decode, rows) replaced by the cell's, and the cell's measurements of its decode
    all-reduce (hand-off, waits, rank skew; as ladder meets it: hand-off and stretch) at its message
    size."""
    def replaced(rows, by, key_columns):
        measured = {tuple(r[:key_columns]) for r in by}
        return [r for r in rows if tuple(r[:key_columns]) not in measured] + [list(r) for r in by]

    table = replaced(machine.gemm_table, step.gemms, 4)
    kernels = replaced(machine.kernel_table, step.kernels, 3)
    in_step = {key: dict(getattr(machine, key)) for key in IN_STEP}
    if step.allreduce_bytes > 0:
        for key, seconds in step.in_step.items():
            in_step[key][float(step.allreduce_bytes)] = seconds
    return replace(machine, name=f"{machine.name} + {label}", gemm_table=table, kernel_table=kernels, **in_step,
                   provenance={**machine.provenance, "step_calibration": label})


# The memory bandwidth a decode reads its weights at: STREAM read (sum a; the decode's own ceiling,
# written by newer apps) where the file has it, else STREAM triad (older files).
BANDWIDTH_KEYS = ("roofline_stream_read_Bps", "roofline_stream_triad_Bps")


def memory_bandwidth_key(attrs) -> str | None:
    """The root attribute BW is taken from: the first of BANDWIDTH_KEYS present and positive."""
    for key in BANDWIDTH_KEYS:
        if key in attrs and float(attrs[key]) > 0:
            return key
    return None


def machine_from_results(path: Path, allreduce_paths=()) -> Machine:
    """A machine from one ladder-bench file's roofline (per rank, all ranks concurrently) and the
    given ladder-allreduce files. AnalysisError if the file has no roofline."""
    try:
        with h5py.File(path, "r") as h5:
            attrs = h5.attrs
            bw_key = memory_bandwidth_key(attrs)
            if bw_key is None or "roofline_gemm_flops" not in attrs:
                raise AnalysisError(f"{path}: no roofline attributes (run ladder-bench with --roofline)")
            gemm_table = _gemm_table(h5)
            machine = Machine(
                name=f"calibrated from {Path(path).name}",
                description=f"{_text(attrs.get('cpu_model', ''))} / {_text(attrs.get('device', ''))}, "
                            f"{int(attrs.get('world_size', 1))} ranks, {_text(attrs.get('backend', ''))}; "
                            f"BW {float(attrs[bw_key]) / 1e9:.3g} GB/s from {bw_key}",
                mem_bw_Bps=float(attrs[bw_key]),
                gemm_flops=float(attrs["roofline_gemm_flops"]),
                gemm_table=gemm_table,
                provenance={"results": str(path), "created_utc": _text(attrs.get("created_utc", "")),
                            "mem_bw": bw_key})
            world = int(attrs.get("world_size", 1))
            cpu = _text(attrs.get("cpu_model", ""))
    except AnalysisError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise AnalysisError(f"{path}: cannot read the roofline ({exc})") from None
    if not gemm_table:
        warnings.warn(f"{path}: no /roofline/gemm table (an app before the performance model): GEMMs from the "
                      "STREAM and GEMM ceilings alone", AnalysisWarning)
    runs = [read_allreduce(Path(p)) for p in allreduce_paths]
    for r in runs:
        if cpu and r.cpu_model and r.cpu_model != cpu:
            warnings.warn(f"{r.path}: measured on {r.cpu_model!r}, the results on {cpu!r}", AnalysisWarning)
    tables, overshoot, by_latency = allreduce_calibration(runs)
    machine.allreduce_tables = tables
    if overshoot is not None:
        machine.sleep_overshoot_s = overshoot
    machine.sleep_overshoot_by_latency = by_latency
    machine.provenance["allreduce"] = [str(r.path) for r in runs]
    if world > 1 and not any(t.ranks == world for t in tables):
        machine.provenance["missing"] = f"no ladder-allreduce table at {world} ranks (link 0)"
    return machine


def has_allreduce(machine: Machine, ranks: int) -> bool:
    return ranks <= 1 or any(t.ranks == ranks for t in machine.allreduce_tables) or bool(machine.allreduce)


def load_machine(machine_file=None, calibrate=None) -> Machine | None:
    """--machine FILE.json, or --calibrate RESULTS.h5 [ALLREDUCE.h5 ...], or None."""
    if machine_file and calibrate:
        raise AnalysisError("give --machine or --calibrate, not both")
    if machine_file:
        return Machine.from_json(machine_file)
    if calibrate:
        results, *others = [Path(p) for p in calibrate]
        for p in [results, *others]:
            if not p.is_file():
                raise AnalysisError(f"{p}: no such file")
        return machine_from_results(results, others)
    return None


def model_config_of(path: Path) -> dict:
    with h5py.File(path, "r") as h5:
        return json.loads(_text(h5.attrs["model_config"]))
