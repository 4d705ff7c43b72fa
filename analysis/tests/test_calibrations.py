"""Calibrations: machines read from synthetic --roofline and ladder-allreduce files, a cell's own
calibration in place of the job-start one, and the pooled machine; expectations derived from the
model on the same inputs."""
from dataclasses import replace

import pandas as pd
import pytest

from analysis.calibrate import machine_from_results
from analysis.calibrations import Calibrations, cells_overshoot_by_latency, pooled_machine
from analysis.cli import main
from analysis.machine import Machine
from analysis.perfmodel import predict
from analysis.tests.calibrated import CONFIG, ROOFLINE, VARIANTS, calibrated_files
from analysis.tests.synth import write_allreduce, write_result
from analysis.workload import Shape, Workload


def test_calibration_reads_the_roofline_and_the_allreduce_files(tmp_path):
    calibrated_files(tmp_path)
    m = machine_from_results(tmp_path / "run0.h5", [tmp_path / "ar0.h5", tmp_path / "ar500.h5"])
    assert (m.mem_bw_Bps, m.gemm_flops) == (1e10, 5e10)
    assert m.gemm_table == ROOFLINE["table"]
    table, = m.allreduce_tables
    assert table.ranks == 2 and table.time(65536) == 8e-5
    assert table.interference == pytest.approx([0.8, 0.6, 0.4])
    assert m.sleep_overshoot_s == pytest.approx(6e-5)  # time - latency - the link-0 time, per size


def test_calibration_prefers_stream_read_and_falls_back_to_triad(tmp_path):
    # A newer app writes roofline_stream_read_Bps (the decode's own ceiling): BW comes from it.
    write_result(tmp_path / "new.h5", {("standard", 1): 1.0}, model="toy", tp=1, model_config=CONFIG,
                 roofline={**ROOFLINE, "read": 1.7e10})
    new = machine_from_results(tmp_path / "new.h5")
    assert new.mem_bw_Bps == 1.7e10
    assert new.provenance["mem_bw"] == "roofline_stream_read_Bps"
    assert "from roofline_stream_read_Bps" in new.description
    # An older file has only triad: BW falls back to it, and the description says so.
    write_result(tmp_path / "old.h5", {("standard", 1): 1.0}, model="toy", tp=1, model_config=CONFIG,
                 roofline=ROOFLINE)
    old = machine_from_results(tmp_path / "old.h5")
    assert old.mem_bw_Bps == 1e10
    assert old.provenance["mem_bw"] == "roofline_stream_triad_Bps"
    assert "from roofline_stream_triad_Bps" in old.description


def test_a_cells_step_gemm_table_replaces_the_job_start_one(tmp_path):
    # The cell's decode GEMMs timed between its generations are twice the job-start table's: the
    # check predicts the cell from them (measured = that prediction passes; the job-start machine
    # alone would miss), and the pooled calibration, across jobs, keeps the job-start tables.
    step = [[1, 768, 256, 1, 6e-5], [1, 1024, 256, 1, 8e-5]]
    roofline = {**ROOFLINE, "step": {(1, 16, 8): (step, 0.0, 0), (4, 16, 8): ([[4, 768, 256, 1, 1.0]], 0.0, 0)}}
    path = tmp_path / "run.h5"
    write_result(path, {(v, 1): 1.0 for v in VARIANTS}, model="toy", tp=1, prompt_len=16, gen_len=8, device="cpu",
                 dtype="fp32", model_config=CONFIG, roofline=roofline)
    calibrations = Calibrations.discover([tmp_path])
    cell = calibrations.for_cell(str(path), 1, 16, 8)
    assert sorted(cell.gemm_table) == sorted(step)
    label = "the cell's calibration (batch 1)"
    assert label in cell.name and cell.provenance["step_calibration"] == label
    assert cell.allreduce_start_in_step == {}  # TP 1: no all-reduce
    assert calibrations.for_cell(str(path), 2, 16, 8).gemm_table == ROOFLINE["table"]  # no table for batch 2
    assert Calibrations.discover([tmp_path], mode="pooled").for_cell(str(path), 1, 16, 8).gemm_table == ROOFLINE["table"]
    w = Workload(Shape.from_config(CONFIG, "toy"), tp=1, batch=1, prompt_len=16, gen_len=8)
    truth = {p.variant: p.tokens_per_s for p in predict(w, cell, VARIANTS)}
    job_start = {p.variant: p.tokens_per_s for p in predict(w, machine_from_results(path), VARIANTS)}
    assert all(job_start[v] > 1.05 * truth[v] for v in VARIANTS)
    write_result(path, {(v, 1): truth[v] for v in VARIANTS}, model="toy", tp=1, reps=3, spread=0.0, prompt_len=16,
                 gen_len=8, device="cpu", dtype="fp32", model_config=CONFIG, roofline=roofline)
    assert main(["predict", "--check", str(tmp_path), "--out-dir", str(tmp_path / "t")]) == 0
    check = pd.read_csv(tmp_path / "t" / "predict-check.csv")
    assert check["tokens_error"].abs().max() < 1e-9
    assert check["calibration"].str.endswith("+ " + label).all()


def test_the_handoff_comes_from_the_cell_where_measured_and_the_interference_excludes_it(tmp_path):
    # ladder-allreduce: 100 us per 1 KiB all-reduce, 20 us of it inside start_allreduce, async
    # overlap 40 %: (1 - 0.4) x 100 = 60 us cost the overlapped compute, 20 of them the hand-off,
    # so the rest costs (60 - 20) / (100 - 20) = 0.5 of itself.
    ar = write_allreduce(tmp_path / "ar0.h5", sizes=(1024, 65536), time_s=(1e-4, 2e-4), start_s=(2e-5, 2e-5),
                         overlap_pct=(40.0, 40.0))
    config = {**CONFIG, "hidden_size": 256}
    path = write_result(tmp_path / "run.h5", {("standard", 1): 1.0}, model="toy", tp=2, prompt_len=16, gen_len=8,
                        device="cpu", dtype="fp32", model_config=config,
                        roofline={**ROOFLINE, "step": {(1, 16, 8): ([], 9e-5, 1024)}})
    job = machine_from_results(path, [ar])
    table, = job.allreduce_tables
    assert table.start_s == [2e-5, 2e-5] and table.interference == pytest.approx([0.5, (0.6 * 2e-4 - 2e-5) / 1.8e-4])
    assert job.allreduce_start_s(1024, 2) == (2e-5, 2e-5)  # the hot loop's: no change to r in total
    cell = Calibrations.discover([tmp_path]).for_cell(str(path), 1, 16, 8)
    assert cell.allreduce_start_s(1024, 2) == (9e-5, 2e-5)  # the step's hand-off, covering the hot one
    assert cell.allreduce_start_s(65536, 2) == (2e-5, 2e-5)  # a size the cell did not measure
    # Standard, decode (1 KiB message = 256 fp32): each of the 4 all-reduces costs 90 us of hand-off
    # + the 80 us rest, 70 us more than with the job-start calibration.
    w = Workload(Shape.from_config(config, "toy"), tp=2, batch=1, prompt_len=16, gen_len=8)
    steps = {name: predict(w, m, ("standard", "ladder"))
             for name, m in (("job", job), ("cell", cell))}
    job_std, cell_std = steps["job"][0], steps["cell"][0]
    assert cell_std.step_s - job_std.step_s == pytest.approx(4 * 7e-5)
    # The call is the hot loop's 20 us either way; the step's other 70 us are the progress thread's.
    assert cell_std.handoff_ms == pytest.approx(4 * 0.02) and job_std.handoff_ms == pytest.approx(4 * 0.02)
    assert cell_std.wait_ms - job_std.wait_ms == pytest.approx(4 * 0.07)


def test_ladders_overlapped_handoff_and_stretch_come_from_the_cell_where_measured(tmp_path):
    # The cell's replayed ladder step: a 1 KiB all-reduce's hand-off 60 us and its stretch of the
    # module computing over it 70 us (hot loop: call 20 us of 100; the cell's standard hand-off 90
    # us, wait 30 us, no skew). Ladder's 3 all-reduces that a module computes over then cost 60 +
    # 70 us each; the last one, nothing after it, the call 20 us and then its work 70 us and rest
    # 30 us, waited for but for the previous one's add_into (3 d fp32 at 1 GB/s) meanwhile.
    # Standard is unchanged by them. (At 1 GB/s every module takes longer than an all-reduce's
    # 190 us, which then ends before the next one starts.)
    write_allreduce(tmp_path / "ar0.h5", sizes=(1024, 65536), time_s=(1e-4, 2e-4), start_s=(2e-5, 2e-5))
    config = {**CONFIG, "hidden_size": 256}
    measured = [[], 3e-5, 0.0, 0.0, None, 6e-5, 7e-5]
    for name, more in (("ladder.h5", measured), ("plain.h5", measured[:4])):
        write_result(tmp_path / name, {("ladder", 1): 1.0}, model="toy", tp=2, prompt_len=16, gen_len=8,
                     device="cpu", dtype="fp32", model_config=config,
                     roofline={**ROOFLINE, "triad": 1e9, "step": {(1, 16, 8): ([], 9e-5, 1024, *more)}})
    cals = Calibrations.discover([tmp_path])
    cell, plain = (cals.for_cell(str(tmp_path / name), 1, 16, 8) for name in ("ladder.h5", "plain.h5"))
    assert cell.allreduce_start_overlapped_in_step == {1024.0: 6e-5}
    assert cell.allreduce_stretch_overlapped_in_step == {1024.0: 7e-5}
    assert plain.allreduce_start_overlapped_in_step == {} and plain.overlapped_in_step(1024) is None
    w = Workload(Shape.from_config(config, "toy"), tp=2, batch=1, prompt_len=16, gen_len=8)
    step = {p.variant: p.step_s for p in predict(w, cell, ("upper-bound", "standard", "ladder"))}
    assert step["ladder"] - step["upper-bound"] == pytest.approx(3 * (6e-5 + 7e-5) + 2e-5 + 7e-5 + 3e-5
                                                                  - 3 * 256 * 4 / 1e9)
    assert step["standard"] == pytest.approx(predict(w, plain, ("standard",))[0].step_s)


def test_the_wait_after_the_handoff_comes_from_the_cell_where_measured(tmp_path):
    # ladder-allreduce: 100 us per 1 KiB all-reduce, 20 us of it in the call, so without the cell's
    # wait the rest after the hand-off is 80 us; the cell measured 30 us (the all-reduce mostly done
    # inside its 90 us hand-off). Every other size keeps the table's rest.
    ar = write_allreduce(tmp_path / "ar0.h5", sizes=(1024, 65536), time_s=(1e-4, 2e-4), start_s=(2e-5, 2e-5))
    config = {**CONFIG, "hidden_size": 256}
    path = write_result(tmp_path / "run.h5", {("standard", 1): 1.0}, model="toy", tp=2, prompt_len=16, gen_len=8,
                        device="cpu", dtype="fp32", model_config=config,
                        roofline={**ROOFLINE, "step": {(1, 16, 8): ([], 9e-5, 1024, [], 3e-5, 2e-5, 5e-5)}})
    job = machine_from_results(path, [ar])
    cell = Calibrations.discover([tmp_path]).for_cell(str(path), 1, 16, 8)
    assert cell.allreduce_wait_in_step == {1024.0: 3e-5} and job.allreduce_wait_in_step == {}
    assert cell.allreduce_after_start_s(1024, 2) == 3e-5 and job.allreduce_after_start_s(1024, 2) == pytest.approx(8e-5)
    assert cell.allreduce_after_start_s(65536, 2) == pytest.approx(1.8e-4)
    assert (cell.rank_skew_module_in_step, cell.rank_skew_layer_in_step) == ({1024.0: 2e-5}, {1024.0: 5e-5})
    # Standard, decode: each of the 4 all-reduces exposes the cell's 90 us hand-off, 20 us waiting
    # for the other rank and 30 us wait; parallel's 2 the same with 50 us of skew.
    w = Workload(Shape.from_config(config, "toy"), tp=2, batch=1, prompt_len=16, gen_len=8)
    step = {p.variant: p.step_s for p in predict(w, cell, ("upper-bound", "standard", "parallel"))}
    assert step["standard"] - step["upper-bound"] == pytest.approx(4 * (9e-5 + 2e-5 + 3e-5))
    no_skew = predict(w, replace(cell, rank_skew_layer_in_step={}), ("parallel",))[0]
    assert step["parallel"] - no_skew.step_s == pytest.approx(2 * 5e-5)


def test_the_overshoot_comes_from_the_cells_wait_through_its_link(tmp_path):
    # Link 200 us: the cell's wait through it took 330 us, without it 30 us: the compute thread woke
    # 100 us late, not the 40 us ladder-allreduce's link runs measured.
    ar = write_allreduce(tmp_path / "ar0.h5", sizes=(1024, 65536), time_s=(1e-4, 2e-4), start_s=(2e-5, 2e-5))
    ar200 = write_allreduce(tmp_path / "ar200.h5", sizes=(1024, 65536), time_s=(3.4e-4, 4.4e-4), link_latency_us=200)
    config = {**CONFIG, "hidden_size": 256}
    path = write_result(tmp_path / "run.h5", {("standard", 1): 1.0}, model="toy", tp=2, prompt_len=16, gen_len=8,
                        device="cpu", dtype="fp32", model_config=config, link_latency_us=200,
                        roofline={**ROOFLINE, "step": {(1, 16, 8): ([], 9e-5, 1024, [], 3e-5, 0.0, 0.0, 3.3e-4)}})
    job = machine_from_results(path, [ar, ar200])
    cell = Calibrations.discover([tmp_path]).for_cell(str(path), 1, 16, 8)
    w = Workload(Shape.from_config(config, "toy"), tp=2, batch=1, prompt_len=16, gen_len=8, link_latency_us=200)
    assert job.overshoot_in_step(w, 1024) == pytest.approx(4e-5)
    assert cell.overshoot_in_step(w, 1024) == pytest.approx(1e-4)
    assert cell.overshoot_in_step(w, 65536) == pytest.approx(4e-5)  # a size the cell did not measure


def test_a_cells_kernels_replace_the_formulas_and_pool_by_their_median(tmp_path):
    # The cell's replayed decode step and prefill: their kernels reach the cell's machine (attention
    # with its keys) and, pooled over jobs, each (kernel, decode, rows) takes the median.
    kernels = [["rms_norm", 1, 1, 0, 2e-6], ["causal_attention", 1, 1, 20, 9e-6], ["causal_attention", 0, 16, 16, 3e-5]]
    roofline = {**ROOFLINE, "step": {(1, 16, 8): ([], 0.0, 0, kernels)}}
    path = tmp_path / "run.h5"
    write_result(path, {(v, 1): 1.0 for v in VARIANTS}, model="toy", tp=1, prompt_len=16, gen_len=8, device="cpu",
                 dtype="fp32", model_config=CONFIG, roofline=roofline)
    cell = Calibrations.discover([tmp_path]).for_cell(str(path), 1, 16, 8)
    assert sorted(cell.kernel_table) == sorted(kernels)
    assert cell.measured_kernel("causal_attention", True, 1) == (9e-6, 20)
    assert cell.measured_kernel("causal_attention", False, 16) == (3e-5, 16)
    assert cell.measured_kernel("causal_attention", True, 4) is None
    machines = [Machine(name=f"m{i}", kernel_table=[["rms_norm", 1, 1, 0, t]]) for i, t in enumerate((1e-6, 3e-6, 2e-6))]
    assert pooled_machine(machines).kernel_table == [["rms_norm", 1, 1, 0, 2e-6]]


def test_pooling_takes_the_median_of_the_cells_handoffs_and_waits():
    # The latency-sweep curves pool one calibration per job: each job's cell measured its own hand-off.
    machines = [Machine(name=f"m{i}", allreduce_start_in_step={1024.0: h}, allreduce_wait_in_step={1024.0: h / 2})
                for i, h in enumerate((1e-4, 3e-4, 1.2e-4))]
    assert pooled_machine(machines).allreduce_start_in_step == {1024.0: 1.2e-4}
    assert pooled_machine(machines).allreduce_wait_in_step == {1024.0: 6e-5}
    # A wait through the emulated link belongs to the job's own link: not pooled across latencies.
    linked = [Machine(name=f"m{i}", allreduce_wait_link_in_step={1024.0: s}) for i, s in enumerate((1e-3, 2e-3))]
    assert pooled_machine(linked).allreduce_wait_link_in_step == {}
    skews = [Machine(name=f"m{i}", rank_skew_module_in_step={1024.0: s}) for i, s in enumerate((1e-5, 4e-5, 2e-5))]
    assert pooled_machine(skews).rank_skew_module_in_step == {1024.0: 2e-5}


def test_the_curves_take_the_overshoot_from_the_cells_own_waits_through_their_link():
    # Each job's cell: the wait without the link (20 µs) and through it (D + 20 µs + its ω); at
    # TP 2 and 1024 bytes the link adds only its latency. ω per latency: the median of its cells.
    w = Workload(Shape("toy", layers=2, hidden=256, heads=4, kv_heads=4, ffn=512, vocab=1000), tp=2)

    def cell(latency_us, overshoot_s):
        return latency_us, Machine(name=f"{latency_us}", allreduce_wait_in_step={1024.0: 2e-5},
                                   allreduce_wait_link_in_step={1024.0: latency_us * 1e-6 + 2e-5 + overshoot_s})
    cells = [(0.0, Machine(name="link 0", allreduce_wait_in_step={1024.0: 2e-5})),
             cell(200.0, 4e-6), cell(200.0, 8e-6), cell(200.0, 1e-6), cell(1000.0, 3e-5)]
    by_latency = cells_overshoot_by_latency(cells, w)
    assert by_latency == pytest.approx({200.0: 4e-6, 1000.0: 3e-5})
    # They replace the ladder-allreduce files' ω, which the pooled machine otherwise keeps.
    files = Machine(name="files", sleep_overshoot_s=1e-3, sleep_overshoot_by_latency={1000.0: 1e-3})
    assert pooled_machine([files, files]).overshoot_at(1000.0) == 1e-3
    pooled = pooled_machine([files, files], by_latency)
    assert pooled.overshoot_at(200.0) == pytest.approx(4e-6)
    assert pooled.overshoot_at(600.0) == pytest.approx(1.7e-5)  # linear between the measured latencies
    assert pooled.allreduce_wait_link_in_step == {}
