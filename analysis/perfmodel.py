"""The performance model: prefill, decode step and tokens/s of every variant from a model shape and
a machine description (docs/measurement.md, "Performance model", has every formula).

Compute: each kernel of a module from its bytes and FLOPs against the machine's bandwidth and GEMM
rate plus a per-kernel overhead; a GEMM from the machine's measured table of the run's own GEMM
shapes where there is one (`ladder-bench --roofline`). Communication: one all-reduce from its
message size (a measured `ladder-allreduce` table, or alpha + bytes/bandwidth), plus the emulated
link exactly as the app adds it (src/comm/link_model.hpp, comm_mpi.cpp). Schedule: the same rule
as the app (src/model/schedule.hpp, Transformer::forward): module i first settles every pending
all-reduce of a module <= reads_through(i), i-1 in a standard layer and i-2 in a ladder one, the
parallel block settles its one module per layer at once. The schedule is simulated event by event,
for all decode steps at once (numpy arrays over the steps' context lengths).

The workload is in workload.py, the machine in machine.py, one module's compute in module_costs.py;
this file holds the schedule, its simulation and the whole generation's prediction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .errors import AnalysisError
from .machine import Machine
from .module_costs import Costs, module_costs
from .workload import Shape, Workload

VARIANTS = ("standard", "ladder", "parallel", "upper-bound", "hybrid-ladder", "desync")
DESYNC_PATTERNS = ("default", "4x", "infinite")


@dataclass
class Schedule:
    """src/model/schedule.hpp for one variant: communicates, parallel block, ladder_from, and
    which modules desync reduces."""

    variant: str
    layers: int
    tp: int
    ladder_from: int
    desync_pattern: str = "default"

    @classmethod
    def of(cls, variant: str, shape: Shape, tp: int) -> "Schedule":
        if variant not in VARIANTS:
            raise AnalysisError(f"variant {variant!r}: choose from {', '.join(VARIANTS)}")
        L = shape.layers
        hybrid = shape.ladder_layers if shape.ladder_layers is not None else L // 2
        start = {"ladder": 0, "hybrid-ladder": L - hybrid}.get(variant, L)
        if shape.desync_pattern not in DESYNC_PATTERNS:
            raise AnalysisError(f"desync pattern {shape.desync_pattern!r}: choose from {', '.join(DESYNC_PATTERNS)}")
        return cls(variant, L, tp, start, shape.desync_pattern)

    @property
    def communicates(self) -> bool:
        return self.variant != "upper-bound" and self.tp > 1

    @property
    def parallel_block(self) -> bool:
        return self.variant == "parallel"

    def reads_through(self, module: int) -> int:
        return module - 2 if module // 2 >= self.ladder_from else module - 1

    def reduces(self, module: int) -> bool:
        """Whether module i is all-reduced: every one when communicating, but desync's dropped."""
        if not self.communicates:
            return False
        if self.variant != "desync":
            return True
        layer = module // 2
        if module % 2 == 0:
            return False  # attention's: always dropped
        if layer == self.layers - 1:
            return True  # the LM head reads one stream
        return {"default": True, "4x": layer % 2 == 1, "infinite": False}[self.desync_pattern]

    @property
    def allreduces(self) -> int:
        """All-reduces one forward starts (Schedule::allreduces_per_forward)."""
        if self.parallel_block:
            return self.layers if self.communicates else 0
        return sum(self.reduces(i) for i in range(2 * self.layers))


@dataclass
class Timeline:
    """One simulated forward: its time and where it went (arrays over decode steps)."""

    total: np.ndarray
    compute: np.ndarray        # modules' own compute (without interference)
    stretch: np.ndarray        # compute lost to overlapped all-reduces (interference)
    handoff: np.ndarray        # the compute thread inside start_allreduce
    wait: np.ndarray           # the compute thread blocked in wait(): exposed communication
    comm: np.ndarray           # every all-reduce's time (real + emulated link + overshoot), exposed or not
    attention: np.ndarray      # compute of the attention modules (parallel: the blocks)
    mlp: np.ndarray


def simulate(sched: Schedule, costs: Costs, w: Workload, mc: Machine, msg_bytes: float) -> Timeline:
    """Transformer::forward on the compute thread and the MpiComm progress thread, event by event.

    Per all-reduce of module i (started when its compute ends): the compute thread first hands it
    off (start_allreduce). The hand-off h a step meets covers h_covered of the measured r: the call
    itself takes h_covered (what ladder-allreduce's hot loop measures), the rest, h - h_covered, is
    the progress thread's work, which at real-time priority on the same core takes the core from
    the compute thread as soon as it is handed the all-reduce: it stretches whatever the compute
    thread runs next in full, or hides in a wait (standard: the same total as paying all of h in
    the call; ladder: the next wait can begin before it is done). The real all-reduce then runs
    when the progress thread is free (FIFO) for the rest: the wait a step meets after the hand-off
    where the cell measured it, else r - h_covered seconds, from when the latest rank has handed
    it off too (the rank skew per sync after it; the compute is the slowest rank's forward, whose
    modules are not each the slowest); the emulated link then holds
    it for D seconds after the previous transfer left (link_free = max(real_done, link_free) + D);
    wait() returns at the real end, or, when the link is emulated and its end is later, at that end
    plus the overshoot. A module computing while a real all-reduce runs is stretched by
    interference x the overlap. An all-reduce the next module computes over (ladder: that module
    does not read it) is, where the cell measured it so, a hand-off of the measured overlapped call
    and a measured stretch of that next module in place of the call, the work and the
    interference (its progress thread's timeline as above).
    """
    n = costs.attention.shape
    zero = np.zeros(n)
    t = costs.head.copy()
    compute, stretch, wait, attention, mlp = zero.copy(), zero.copy(), zero.copy(), zero.copy(), zero.copy()
    comm = sched.communicates
    rest = mc.allreduce_after_start_s(msg_bytes, w.tp, w.p2p) if comm else 0.0  # after the hand-off
    skew = mc.rank_skew_s(msg_bytes, sched.parallel_block) if comm else 0.0
    D = w.link_delay_s(msg_bytes) if comm else 0.0
    iota = mc.interference_at(msg_bytes, w.tp, w.p2p) if comm else 0.0
    overshoot = mc.overshoot_in_step(w, msg_bytes) if comm and w.link_enabled else 0.0
    h, h_covered = mc.allreduce_start_s(msg_bytes, w.tp) if comm else (0.0, 0.0)
    call = min(h, h_covered)  # the compute thread inside start_allreduce
    work = h - call  # the progress thread's share of the hand-off, on the compute thread's core
    measured_overlap = mc.overlapped_in_step(msg_bytes) if comm and not sched.parallel_block else None
    modules = 2 * sched.layers

    def overlapped(i):  # the next module computes while all-reduce i moves
        return measured_overlap is not None and i + 1 < modules and sched.reads_through(i + 1) < i

    handoff = zero.copy()
    real_free = zero.copy()
    link_free = np.full(n, -np.inf)
    # i -> (work_start, work_done, real_start, real_done, ready, stretch): the progress thread's
    # preempting work runs from work_start to work_done, the real all-reduce from real_start (the
    # latest rank's hand-off) to real_done; stretch: the measured cost to the next module where the
    # all-reduce is overlapped(), else None (the overlaps and interference above).
    pending: dict[int, tuple] = {}

    def settle(k):
        nonlocal t
        *_, real_done, ready, _ = pending.pop(k)
        if comm:
            t0 = t
            t = np.maximum(t, real_done)
            if w.link_enabled:
                t = np.where(t < ready, ready + overshoot, t)
            wait[...] += t - t0
        t = t + costs.add

    def run(i, c):
        nonlocal t, real_free, link_free
        start = t
        extra = zero.copy()

        def overlap(begin, end):  # of [begin, end] with this module's compute
            return np.clip(np.minimum(end, start + c) - np.maximum(begin, start), 0.0, None)

        for work_start, work_done, real_start, real_done, _, measured in pending.values():  # still moving data
            if measured is not None:
                extra = extra + measured
            else:
                extra = extra + overlap(work_start, work_done) + iota * overlap(real_start, real_done)
        t = start + c + extra
        compute[...] += c
        stretch[...] += extra
        if sched.reduces(i):
            this_overlap = measured_overlap if overlapped(i) else None  # (call, stretch of the next module)
            this_call = call if this_overlap is None else this_overlap[0]
            t = t + this_call  # start_allreduce: the call, on the compute thread
            handoff[...] += this_call
            work_start = np.maximum(t, real_free)
            work_done = work_start + work
            real_start = work_done + skew  # the real all-reduce waits for the latest rank
            real_done = real_start + rest
            real_free = real_done
            ready = np.maximum(real_done, link_free) + D if w.link_enabled else real_done
            link_free = ready
            pending[i] = (work_start, work_done, real_start, real_done, ready,
                          None if this_overlap is None else this_overlap[1])
        else:
            pending[i] = (t,) * 5 + (None,)

    for layer in range(sched.layers):
        if sched.parallel_block:
            run(2 * layer, costs.parallel)
            attention[...] += costs.parallel
            settle(2 * layer)
            continue
        for m, c in ((0, costs.attention), (1, costs.mlp)):
            i = 2 * layer + m
            for k in sorted(pending):
                if k <= sched.reads_through(i):
                    settle(k)
            run(i, c)
            (attention if m == 0 else mlp)[...] += c
    for k in sorted(pending):
        settle(k)
    t = t + costs.tail
    comm_s = sched.allreduces * (h + skew + rest + D + overshoot) if comm else 0.0
    return Timeline(t, compute, stretch, handoff, wait, zero + comm_s, attention, mlp)


# --------------------------------------------------------------------------------------------
# Whole generations


@dataclass
class Prediction:
    variant: str
    prefill_s: float
    decode_s: float
    step_s: float            # mean decode step
    tokens_per_s: float
    attention_ms: float      # per decode step (mean): attention modules' compute
    mlp_ms: float
    stretch_ms: float        # compute lost to overlapped all-reduces
    handoff_ms: float        # the compute thread handing all-reduces off (start_allreduce)
    wait_ms: float           # exposed communication
    comm_ms: float           # all communication, exposed or not
    allreduce_us: float      # one decode all-reduce: real part
    link_us: float           # one decode all-reduce: emulated link part
    speedup: float = math.nan


def apply_software(w: Workload, mc: Machine) -> Workload:
    """The machine file's software settings (activation/wire bytes, attention reads) where given."""
    changes = {k: v for k, v in (("act_bytes", mc.activation_bytes), ("wire_bytes", mc.wire_bytes),
                                 ("kv_read", mc.kv_read)) if v is not None}
    return replace(w, **changes) if changes else w


def predict(w: Workload, mc: Machine, variants=VARIANTS) -> list[Prediction]:
    """Prefill + gen_len-1 decode steps of each variant; speedups over standard's prediction."""
    w = apply_software(w, mc)
    steps = np.arange(1, w.gen_len, dtype=float)
    ctx = w.prompt_len + steps  # keys the decode step at position prompt_len + step - 1 attends to
    decode_costs = module_costs(w, mc, w.batch, ctx if len(ctx) else np.zeros(0), prefill=False)
    prefill_costs = module_costs(w, mc, w.batch * w.prompt_len, np.zeros(1), prefill=True)
    decode_msg = w.batch * w.shape.hidden * w.wire_bytes
    prefill_msg = w.batch * w.prompt_len * w.shape.hidden * w.wire_bytes
    out = []
    for variant in variants:
        sched = Schedule.of(variant, w.shape, w.tp)
        pre = simulate(sched, prefill_costs, w, mc, prefill_msg)
        dec = simulate(sched, decode_costs, w, mc, decode_msg)
        prefill_s = float(pre.total[0])
        decode_s = float(dec.total.sum())
        nsteps = max(len(steps), 1)

        def per_step(x):
            return 1e3 * float(np.sum(x)) / nsteps

        out.append(Prediction(
            variant=variant, prefill_s=prefill_s, decode_s=decode_s, step_s=decode_s / nsteps,
            tokens_per_s=w.batch * w.gen_len / (prefill_s + decode_s),
            attention_ms=per_step(dec.attention), mlp_ms=per_step(dec.mlp), stretch_ms=per_step(dec.stretch),
            handoff_ms=per_step(dec.handoff),
            wait_ms=per_step(dec.wait), comm_ms=per_step(dec.comm),
            allreduce_us=1e6 * (mc.allreduce_s(decode_msg, w.tp, w.p2p) if sched.communicates else 0.0),
            link_us=1e6 * (w.link_delay_s(decode_msg) if sched.communicates else 0.0)))
    standard = next((p for p in out if p.variant == "standard"), None) or predict(w, mc, ("standard",))[0]
    for p in out:
        p.speedup = p.tokens_per_s / standard.tokens_per_s
    return out
