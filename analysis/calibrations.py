"""Which machine predicts a measured cell: each results file's own calibration (calibrate.py), the
cell's own where the file measured one between the cell's generations, or the median over several
jobs' calibrations (the pooled machine, also the latency-sweep curves')."""
from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from .calibrate import (file_kind, find_allreduce_files, machine_from_results, step_calibrations,
                        with_step_calibration, world_size_of)
from .errors import AnalysisError, AnalysisWarning
from .load import find_result_files
from .machine import IN_STEP, Machine
from .workload import Workload


class Calibrations:
    """Machines by results file: each file's own roofline plus the ladder-allreduce files given
    (`job`), or the median of every results file's at the same rank count (`pooled`: steadier on a
    noisy machine, but no longer the same job's); or one machine for every cell (--machine /
    --calibrate). In `job` mode a cell whose file has its own calibration (measured between the
    cell's generations) takes its GEMM times and all-reduce hand-off from there (`for_cell`)."""

    def __init__(self, allreduce_files=(), machine: Machine | None = None, pooled_over=()):
        self.allreduce_files = list(allreduce_files)
        self.machine = machine
        self.pooled_over = [str(p) for p in pooled_over]
        self._cache: dict[str, Machine | None] = {}
        self._pools: dict[int, Machine | None] = {}
        self._steps: dict[str, dict] = {}

    @classmethod
    def discover(cls, paths, machine: Machine | None = None, mode: str = "job") -> "Calibrations":
        if machine is not None:
            return cls([], machine)
        if mode not in ("job", "pooled"):
            raise AnalysisError(f"--calibration {mode}: choose job or pooled")
        results = [p for p in find_result_files(paths) if file_kind(p) == "inference"] if mode == "pooled" else []
        return cls(find_allreduce_files(paths), None, results)

    def _own(self, file: str) -> Machine | None:
        if file not in self._cache:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", AnalysisWarning)
                    self._cache[file] = machine_from_results(Path(file), self.allreduce_files)
            except AnalysisError:
                self._cache[file] = None  # no roofline in that file: no prediction
        return self._cache[file]

    def for_cell(self, file: str, batch: int, prompt_len: int, gen_len: int) -> Machine | None:
        """for_file's machine, with the cell's own calibration where the file has one (job mode)."""
        machine = self.for_file(file)
        if machine is None or self.machine is not None or self.pooled_over:
            return machine
        if file not in self._steps:
            self._steps[file] = step_calibrations(Path(file))
        step = self._steps[file].get((int(batch), int(prompt_len), int(gen_len)))
        return with_step_calibration(machine, step, f"the cell's calibration (batch {int(batch)})") if step else machine

    def for_file(self, file: str) -> Machine | None:
        if self.machine is not None:
            return self.machine
        own = self._own(file)
        if not self.pooled_over or own is None:
            return own
        ranks = world_size_of(Path(file))
        if ranks not in self._pools:
            machines = [m for m in (self._own(f) for f in self.pooled_over if world_size_of(Path(f)) == ranks)
                        if m is not None]
            self._pools[ranks] = pooled_machine(machines) if machines else None
        return self._pools[ranks]


# --------------------------------------------------------------------------------------------
# One machine from several jobs' calibrations


def _median_rows(tables: list[list]) -> list:
    """Rows of several tables whose last column is seconds: one row per key (the other columns),
    the median of its seconds."""
    times: dict[tuple, list] = {}
    for table in tables:
        for row in table:
            times.setdefault(tuple(row[:-1]), []).append(row[-1])
    return [[*k, float(np.median(v))] for k, v in times.items()]


def pooled_machine(machines: list[Machine], overshoot_by_latency: dict | None = None) -> Machine:
    """One machine from several jobs' calibrations: the median of every roofline number, of every
    measured GEMM and kernel time, of every cell's all-reduce hand-off and wait per size and of its
    rank skew (the all-reduce tables are the first's: the same ladder-allreduce files). With
    `overshoot_by_latency` ({µs: s}, the cells' own: cells_overshoot_by_latency), that replaces the
    ladder-allreduce files' ω."""
    base = machines[0]
    if overshoot_by_latency:
        base = replace(base, sleep_overshoot_by_latency=dict(overshoot_by_latency),
                       sleep_overshoot_s=float(np.median(list(overshoot_by_latency.values()))))
    if len(machines) == 1:
        return base

    def by_size(key):  # {bytes: seconds}: the median per size
        return dict(_median_rows([list(getattr(m, key).items()) for m in machines]))
    return Machine(**{**vars(base), "name": f"median of {len(machines)} calibrations",
                      "mem_bw_Bps": float(np.median([m.mem_bw_Bps for m in machines])),
                      "gemm_flops": float(np.median([m.gemm_flops for m in machines])),
                      "gemm_table": _median_rows([m.gemm_table for m in machines]),
                      "kernel_table": _median_rows([m.kernel_table for m in machines]),
                      # The link's wait only at the link it was measured at: the jobs differ in it.
                      **{key: by_size(key) for key in IN_STEP if key != "allreduce_wait_link_in_step"},
                      "allreduce_wait_link_in_step": {}})


def cells_overshoot_by_latency(machines_at: list[tuple[float, Machine]], base: Workload) -> dict:
    """ω per emulated latency ({µs: s}) from the cells' own waits through their link: each job's
    cell calibration at its latency (Machine.overshoot_in_step, at the sizes it measured through the
    link), the median per latency; {} where no cell measured one. The figure's curves then take ω
    as the cells do, not from ladder-allreduce's blocking runs minutes away (CI VM, session 11: one
    sweep's runs at 500 and 1000 µs took 2-6x the link's time per call in bursts while the cells'
    own waits came within 6 µs of the link's time plus the wait without it)."""
    by_latency: dict = {}
    for latency, m in machines_at:
        if latency <= 0 or not m.allreduce_wait_link_in_step:
            continue
        w = replace(base, link_latency_us=float(latency), link_bandwidth_gbps=0.0)
        for nbytes in m.allreduce_wait_link_in_step:
            by_latency.setdefault(float(latency), []).append(m.overshoot_in_step(w, nbytes))
    return {latency: float(np.median(v)) for latency, v in sorted(by_latency.items())}
