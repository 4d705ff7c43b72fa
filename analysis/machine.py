"""The machine the performance model predicts on: calibrated rates (bandwidth, GEMM FLOP/s,
measured GEMM and kernel times), all-reduce costs (measured ladder-allreduce tables or alpha +
bytes/bandwidth) and what a cell's own calibration measured of its all-reduces in a decode step.
Read from and written to the machine JSON files (configs/machines/, docs/measurement.md)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import AnalysisError
from .workload import Workload


def _interp(x: float, xs, ys) -> float:
    """Piecewise linear in x through the measured points; below the first point its value, above
    the last the last segment's slope (an all-reduce's time is affine in its size)."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if len(xs) == 1 or x <= xs[0]:
        return float(ys[0])
    if x >= xs[-1]:
        slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        return float(ys[-1] + max(slope, 0.0) * (x - xs[-1]))
    return float(np.interp(x, xs, ys))


# A cell calibration's measurements of a decode all-reduce as a step meets it: the Machine's key
# ({bytes: seconds}) -> the results file's attribute (/roofline/step/c*).
IN_STEP = {"allreduce_start_in_step": "allreduce_start_s", "allreduce_wait_in_step": "allreduce_wait_s",
           "allreduce_wait_link_in_step": "allreduce_wait_link_s", "rank_skew_module_in_step": "rank_skew_module_s",
           "rank_skew_layer_in_step": "rank_skew_layer_s",
           "allreduce_start_overlapped_in_step": "allreduce_start_overlapped_s",
           "allreduce_stretch_overlapped_in_step": "allreduce_stretch_overlapped_s"}


def _at_size(by_size: dict, nbytes: float) -> float | None:
    """The seconds a {bytes: seconds} table holds for this size, None where it has none."""
    return next((float(v) for size, v in by_size.items() if math.isclose(float(size), nbytes)), None)


@dataclass
class AllReduceTable:
    """A measured ladder-allreduce sweep at `ranks` (link 0): blocking time per size, the part of
    it inside start_allreduce (the hand-off, the caller's thread busy), and the interference per
    size: what the rest of an overlapped all-reduce costs the compute it overlaps, as a fraction of
    that rest (from the async mode's overlap, the hand-off taken out)."""

    ranks: int
    bytes: list
    time_s: list
    interference: list | None = None
    start_s: list | None = None

    def start(self, nbytes: float) -> float:
        return float(np.interp(nbytes, self.bytes, self.start_s)) if self.start_s else 0.0

    def time(self, nbytes: float) -> float:
        return _interp(nbytes, self.bytes, self.time_s)

    def interference_at(self, nbytes: float) -> float | None:
        if not self.interference:
            return None
        return float(np.clip(np.interp(nbytes, self.bytes, self.interference), 0.0, 1.0))


@dataclass
class Machine:
    """Everything the model knows about a machine, per rank (docs/measurement.md).

    mem_bw_Bps x bw_efficiency: bytes/s of every memory-bound kernel (and of a GEMM without a
    measured time); gemm_flops x gemm_efficiency: FLOP/s of a compute-bound GEMM;
    attention_flops: the prefill attention kernel (default: the GEMM rate); kernel_overhead_s:
    added per kernel launch. allreduce: per link class ("on", "off", "inter_node") alpha_s and
    busbw_Bps; allreduce_tables: measured sweeps, used first for their rank count; interference:
    scalar or per link class; sleep_overshoot_s: what a wait on the emulated link takes past the
    link's end (the compute thread's return from it; the name is from when it slept), sleep_overshoot_by_latency the
    same measured at given latencies (a cell at one of them takes its own, linear between them);
    allreduce_start_in_step: the hand-off (time inside start_allreduce) of a message of these sizes
    as a decode step meets it, right after the module's GEMMs (the cell's calibration), used instead
    of the table's for the caller's share; allreduce_wait_in_step: the wait() right after that
    hand-off for a message of these sizes, on the machine's own link (the cell's calibration), used
    instead of the table's time less its hand-off for what the all-reduce takes after the hand-off;
    allreduce_wait_link_in_step: the same wait through the cell's emulated link, which gives the
    cell's own overshoot (that wait less the link's time and the wait without it) instead of
    sleep_overshoot*; rank_skew_module_in_step, rank_skew_layer_in_step: what an all-reduce of these sizes after every
    module (after every layer) waits for the other ranks beyond the slowest rank's forward (the
    cell's calibration: its replayed decode step's modules rank by rank; other sizes: none);
    allreduce_start_overlapped_in_step, allreduce_stretch_overlapped_in_step: the hand-off of an
    all-reduce of these sizes as ladder meets it (the next module computes while it moves), and what
    it adds to that next module's compute (the cell's calibration: its replayed ladder step; other
    sizes and schedules: the hand-off split into the call and the progress thread's work, with
    interference);
    kernel_table: the other kernels of a decode step (decode 1)
    or a prefill (0) timed in a replayed forward of `rows` tokens (the cell's calibration; attention
    at `keys` keys per query), used instead of their bytes/FLOPs formula there; ranks_per_node:
    beyond it a TP group's all-reduce also crosses nodes. activation_bytes, wire_bytes, kv_read: the
    software's storage of activations/KV cache, all-reduced elements and attention reads (None: the
    app's).
    """

    name: str = "machine"
    description: str = ""
    mem_bw_Bps: float = 1e10
    bw_efficiency: float = 1.0
    gemm_flops: float = 1e11
    gemm_efficiency: float = 1.0
    attention_flops: float | None = None
    kernel_overhead_s: float = 0.0
    allreduce: dict = field(default_factory=dict)
    allreduce_tables: list = field(default_factory=list)
    interference: float | dict = 0.0
    sleep_overshoot_s: float = 0.0
    sleep_overshoot_by_latency: dict = field(default_factory=dict)  # {latency µs: seconds}
    allreduce_start_in_step: dict = field(default_factory=dict)  # {bytes: seconds}: the hand-off in a step
    allreduce_wait_in_step: dict = field(default_factory=dict)  # {bytes: seconds}: the wait after it
    allreduce_wait_link_in_step: dict = field(default_factory=dict)  # {bytes: s}: that wait through the emulated link
    rank_skew_module_in_step: dict = field(default_factory=dict)  # {bytes: s}: the other ranks' lag per sync
    rank_skew_layer_in_step: dict = field(default_factory=dict)   # the same, syncs after every layer
    allreduce_start_overlapped_in_step: dict = field(default_factory=dict)  # {bytes: s}: ladder's hand-off
    allreduce_stretch_overlapped_in_step: dict = field(default_factory=dict)  # {bytes: s}: its next module's stretch
    ranks_per_node: int | None = None
    gemm_table: list = field(default_factory=list)  # [m, n, k, decode, seconds per call]
    kernel_table: list = field(default_factory=list)  # [kernel, decode, rows, keys, seconds per call]
    activation_bytes: int | None = None
    wire_bytes: int | None = None
    kv_read: str | None = None
    provenance: dict = field(default_factory=dict)

    # -- JSON --------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, path) -> "Machine":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise AnalysisError(f"{path}: cannot read the machine file ({exc})") from None
        known = set(cls.__dataclass_fields__)
        unknown = sorted(k for k in data if k not in known and not k.startswith("_"))
        if unknown:
            raise AnalysisError(f"{path}: unknown machine key(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(known))})")
        data = {k: v for k, v in data.items() if k in known}
        data["allreduce_tables"] = [AllReduceTable(**t) for t in data.get("allreduce_tables", [])]
        for key in ("sleep_overshoot_by_latency", *IN_STEP):  # JSON keys are strings
            data[key] = {float(k): float(v) for k, v in data.get(key, {}).items()}
        return cls(**data)

    def to_json(self) -> str:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["allreduce_tables"] = [vars(t) for t in self.allreduce_tables]
        return json.dumps(data, indent=2, default=float) + "\n"

    # -- rates -------------------------------------------------------------------------------
    @property
    def bandwidth(self) -> float:
        return self.mem_bw_Bps * self.bw_efficiency

    @property
    def flops(self) -> float:
        return self.gemm_flops * self.gemm_efficiency

    def kernel_s(self, nbytes, flops=0.0, rate=None):
        """One kernel: max(bytes / bandwidth, FLOPs / rate) + the launch overhead."""
        return np.maximum(np.asarray(nbytes, float) / self.bandwidth,
                          np.asarray(flops, float) / (rate or self.flops)) + self.kernel_overhead_s

    def overshoot_at(self, latency_us: float) -> float:
        """The overshoot at this emulated latency: linear between the latencies it was measured
        at, the nearest one's outside them; without any, the one over all latencies."""
        if not self.sleep_overshoot_by_latency:
            return self.sleep_overshoot_s
        lats = sorted(self.sleep_overshoot_by_latency)
        return float(np.interp(latency_us, lats, [self.sleep_overshoot_by_latency[x] for x in lats]))

    def gemm_s(self, m: int, n: int, k: int, decode: bool, weight_bytes: int, act_bytes: int) -> float:
        """y[m,n] = x[m,k] W[n,k]^T: the measured time of this matrix and kind (decode or prefill)
        interpolated linearly in m between measured rows; outside them the nearest measured time
        scaled by the roofline formula's ratio; without a measurement the roofline formula."""
        def formula(rows):
            nbytes = n * k * weight_bytes + (rows * k + rows * n) * act_bytes
            return float(self.kernel_s(nbytes, 2.0 * rows * n * k))

        rows = sorted((r[0], r[4]) for r in self.gemm_table if r[1] == n and r[2] == k and bool(r[3]) == decode)
        if not rows:
            return formula(m)
        ms, ts = zip(*rows)
        if ms[0] <= m <= ms[-1]:
            return float(np.interp(m, ms, ts))
        m0, t0 = (ms[0], ts[0]) if m < ms[0] else (ms[-1], ts[-1])
        return t0 * formula(m) / formula(m0)

    def measured_kernel(self, name: str, decode: bool, rows: int) -> tuple[float, int] | None:
        """(seconds per call, keys per query it attended) of a decode step's (or a prefill's) kernel
        measured at `rows` tokens, or None."""
        for kernel, dec, r, keys, seconds in self.kernel_table:
            if kernel == name and bool(dec) == decode and int(r) == rows:
                return float(seconds), int(keys)
        return None

    # -- communication -----------------------------------------------------------------------
    def _table(self, ranks: int):
        return next((t for t in self.allreduce_tables if t.ranks == ranks), None)

    def allreduce_s(self, nbytes: float, ranks: int, p2p: str = "on") -> float:
        """One all-reduce of `nbytes` over `ranks` on the machine's own link (no emulation)."""
        if ranks <= 1:
            return 0.0
        table = self._table(ranks)
        if table is not None:
            return table.time(nbytes)
        link = self.allreduce.get("on" if p2p == "emulated" else p2p) or self.allreduce.get("on")
        if link is None:
            raise AnalysisError(f"machine {self.name}: no all-reduce at {ranks} ranks (neither a ladder-allreduce "
                                f"table nor alpha_s/busbw_Bps for link '{p2p}')")
        ring = 2.0 * (ranks - 1) / ranks * nbytes
        # alpha_s per all-reduce, plus alpha_per_step_s per step of a ring (2(P-1) steps) where given.
        alpha = link.get("alpha_s", 0.0) + 2 * (ranks - 1) * link.get("alpha_per_step_s", 0.0)
        t = alpha + ring / link["busbw_Bps"]
        if self.ranks_per_node and ranks > self.ranks_per_node:
            net = self.allreduce.get("inter_node")
            if net is None:
                raise AnalysisError(f"machine {self.name}: TP {ranks} spans nodes but 'inter_node' is not described")
            t = alpha + net["alpha_s"] + ring / min(link["busbw_Bps"], net["busbw_Bps"])
        return float(t)

    def allreduce_start_s(self, nbytes: float, ranks: int) -> tuple[float, float]:
        """(hand-off the caller pays, the part of allreduce_s it covers): the time inside
        start_allreduce as a step meets it where measured for this size, else the table's; the
        table's is the part of its all-reduce time already spent by then. (0, 0) without either."""
        table = self._table(ranks)
        covered = table.start(nbytes) if table is not None else 0.0
        in_step = _at_size(self.allreduce_start_in_step, nbytes)
        return (covered if in_step is None else in_step), covered

    def allreduce_after_start_s(self, nbytes: float, ranks: int, p2p: str = "on") -> float:
        """What the all-reduce takes after its hand-off, on the machine's own link: the wait a step
        meets where measured for this size, else allreduce_s less the part the hand-off covers."""
        in_step = _at_size(self.allreduce_wait_in_step, nbytes)
        if in_step is not None:
            return in_step
        return max(self.allreduce_s(nbytes, ranks, p2p) - self.allreduce_start_s(nbytes, ranks)[1], 0.0)

    def overshoot_in_step(self, w: "Workload", nbytes: float) -> float:
        """What a wait past the emulated link's end takes, as a step meets it: the cell's wait
        through the link less the link's time and less the wait without it, where the cell measured
        both for this size (floored at 0); else the measured overshoot at the link's latency."""
        linked = _at_size(self.allreduce_wait_link_in_step, nbytes)
        free = _at_size(self.allreduce_wait_in_step, nbytes)
        if linked is None or free is None:
            return self.overshoot_at(w.link_latency_us)
        return max(linked - w.link_delay_s(nbytes) - free, 0.0)

    def overlapped_in_step(self, nbytes: float) -> tuple[float, float] | None:
        """(hand-off, stretch of the next module) of an all-reduce of `nbytes` that the next module
        computes over (ladder), where the cell measured both for this size; else None."""
        call = _at_size(self.allreduce_start_overlapped_in_step, nbytes)
        stretch = _at_size(self.allreduce_stretch_overlapped_in_step, nbytes)
        return None if call is None or stretch is None else (max(call, 0.0), max(stretch, 0.0))

    def rank_skew_s(self, nbytes: float, layer_syncs: bool) -> float:
        """What an all-reduce of `nbytes` after every module (every layer) waits for the other
        ranks beyond the slowest rank's forward, where measured for this size; else 0."""
        skew = _at_size(self.rank_skew_layer_in_step if layer_syncs else self.rank_skew_module_in_step, nbytes)
        return 0.0 if skew is None else skew

    def interference_at(self, nbytes: float, ranks: int, p2p: str = "on") -> float:
        table = self._table(ranks)
        if table is not None and table.interference_at(nbytes) is not None:
            return table.interference_at(nbytes)
        if isinstance(self.interference, dict):
            return float(self.interference.get("on" if p2p == "emulated" else p2p, 0.0))
        return float(self.interference)
