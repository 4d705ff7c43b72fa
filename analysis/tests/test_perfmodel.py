"""The performance model (analysis/perfmodel.py, workload.py, machine.py, module_costs.py): limits
every variant must meet, the schedule rule of the app, and the formulas on hand-computed cases."""
import math
from dataclasses import replace

import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.machine import AllReduceTable, Machine
from analysis.module_costs import Costs
from analysis.perfmodel import VARIANTS, Schedule, predict, simulate
from analysis.workload import Shape, Workload

TOY = Shape("toy", layers=4, hidden=256, heads=8, kv_heads=4, ffn=512, vocab=1000)


def machine(r=0.0, interference=0.0, overshoot=0.0, **kw):
    """A machine whose one all-reduce takes r seconds at any size (a measured table at 2 ranks)."""
    table = AllReduceTable(ranks=2, bytes=[1.0, 1e9], time_s=[r, r], interference=[interference] * 2)
    return Machine(mem_bw_Bps=kw.pop("bw", 1e10), gemm_flops=kw.pop("flops", 1e11), allreduce_tables=[table],
                   sleep_overshoot_s=overshoot, **kw)


def tokens(preds):
    return {p.variant: p.tokens_per_s for p in preds}


def test_without_communication_cost_the_residual_variants_are_predicted_equal():
    w = Workload(TOY, tp=2, batch=4, prompt_len=64, gen_len=16)
    t = tokens(predict(w, machine(r=0.0), VARIANTS))
    for v in ("ladder", "upper-bound", "hybrid-ladder"):
        assert t[v] == pytest.approx(t["standard"], rel=1e-12), v
    # The parallel block runs other kernels (one fused input GEMM, one norm per layer): close, not equal.
    assert t["parallel"] == pytest.approx(t["standard"], rel=0.05)


def test_at_tp1_every_variant_is_the_same_forward():
    w = Workload(TOY, tp=1, batch=1, prompt_len=32, gen_len=8, link_latency_us=500)
    t = tokens(predict(w, machine(r=1e-3), ("standard", "ladder", "upper-bound", "hybrid-ladder")))
    assert len({round(v, 12) for v in t.values()}) == 1


def test_with_instant_compute_ladder_hides_nothing():
    fast = machine(r=2e-4, bw=1e30, flops=1e30)
    w = Workload(TOY, tp=2, batch=1, prompt_len=16, gen_len=8)
    t = tokens(predict(w, fast, ("standard", "ladder", "upper-bound")))
    assert t["ladder"] == pytest.approx(t["standard"], rel=1e-9)
    assert t["upper-bound"] > 10 * t["standard"]


def test_ordering_with_a_slow_link():
    w = Workload(TOY, tp=2, batch=1, prompt_len=16, gen_len=8, link_latency_us=200)
    t = tokens(predict(w, machine(r=5e-5, overshoot=2e-5), VARIANTS))
    assert t["standard"] < t["hybrid-ladder"] < t["ladder"] <= t["upper-bound"]
    assert t["standard"] < t["parallel"] < t["upper-bound"]


def test_link_delay_is_the_apps_formula():
    w = Workload(TOY, tp=2, link_latency_us=100, link_bandwidth_gbps=10)
    # latency + 2(P-1)/P * bytes * 8 / (Gbit/s * 1e9)
    assert w.link_delay_s(4096) == pytest.approx(100e-6 + 4096 * 8 / 10e9)
    assert Workload(TOY, tp=4, link_latency_us=0, link_bandwidth_gbps=8).link_delay_s(1000) == \
        pytest.approx(1.5 * 1000 * 8 / 8e9)
    assert Workload(TOY, tp=1, link_latency_us=100).link_delay_s(4096) == 0.0
    assert Workload(TOY, tp=2).link_delay_s(4096) == 0.0


def test_schedule_reads_through_as_the_app():
    s = Shape("s", layers=4, hidden=64, heads=4, kv_heads=4, ffn=64, vocab=10, ladder_layers=1)
    standard, ladder, hybrid = (Schedule.of(v, s, 2) for v in ("standard", "ladder", "hybrid-ladder"))
    assert [standard.reads_through(i) for i in range(8)] == [-1, 0, 1, 2, 3, 4, 5, 6]
    assert [ladder.reads_through(i) for i in range(8)] == [-2, -1, 0, 1, 2, 3, 4, 5]
    assert hybrid.ladder_from == 3
    assert [hybrid.reads_through(i) for i in range(8)] == [-1, 0, 1, 2, 3, 4, 4, 5]
    default = Shape("d", layers=6, hidden=64, heads=4, kv_heads=4, ffn=64, vocab=10)
    assert Schedule.of("hybrid-ladder", default, 2).ladder_from == 3  # half the layers, as the app
    assert not Schedule.of("upper-bound", s, 2).communicates
    assert not Schedule.of("standard", s, 1).communicates
    assert Schedule.of("parallel", s, 2).parallel_block


def _costs(att, mlp, add=0.0, head=0.0, tail=0.0):
    one = np.ones(1)
    return Costs(att * one, mlp * one, (att + mlp) * one, add * one, head * one, tail * one)


def test_standard_step_by_hand():
    # Two layers; attention 1.0 ms, MLP 2.0 ms; all-reduce r = 0.1 ms, link D = 0.5 ms, overshoot 0.05 ms;
    # head 0.01, tail 0.3, add 0.02 ms. Standard pays r + D + overshoot + add after every module.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2, link_latency_us=500)
    m = machine(r=1e-4, overshoot=5e-5)
    t = simulate(Schedule.of("standard", s, 2), _costs(1e-3, 2e-3, 2e-5, 1e-5, 3e-4), w, m, 1024)
    assert t.total[0] == pytest.approx(1e-5 + 2 * (1e-3 + 2e-3) + 4 * (1e-4 + 5e-4 + 5e-5 + 2e-5) + 3e-4)
    assert t.wait[0] == pytest.approx(4 * (1e-4 + 5e-4 + 5e-5))


def test_the_overshoot_of_the_cells_own_latency_is_used_where_measured(tmp_path):
    m = Machine(sleep_overshoot_s=5e-5, sleep_overshoot_by_latency={1000.0: 1.4e-4, 50.0: 8e-5})
    assert m.overshoot_at(1000.0) == 1.4e-4 and m.overshoot_at(50.0) == 8e-5
    assert m.overshoot_at(525.0) == pytest.approx(1.1e-4)  # between measured latencies: linear
    assert m.overshoot_at(10.0) == 8e-5 and m.overshoot_at(2000.0) == 1.4e-4  # outside: the nearest
    assert Machine(sleep_overshoot_s=5e-5).overshoot_at(200.0) == 5e-5  # none per latency: the one over all
    (tmp_path / "m.json").write_text(m.to_json())  # JSON keys are strings: read back as latencies
    assert Machine.from_json(tmp_path / "m.json").overshoot_at(1000.0) == 1.4e-4
    # standard with the link at 1000 us exposes r + D + that overshoot per module.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    m.allreduce = {"on": {"alpha_s": 1e-4, "busbw_Bps": 1e12}}
    t = simulate(Schedule.of("standard", s, 2), _costs(1e-3, 2e-3), Workload(s, tp=2, link_latency_us=1000), m, 1024)
    assert t.wait[0] == pytest.approx(4 * (1e-4 + 1024 / 1e12 + 1e-3 + 1.4e-4))


def _handoff_machine(**kw):
    """r = 0.1 ms, of which 0.02 ms inside start_allreduce in the hot loop (the call); in a step
    the hand-off takes 0.05 ms: the call and 0.03 ms of the progress thread's work."""
    m = machine(r=1e-4, **kw)
    m.allreduce_tables[0].start_s = [2e-5, 2e-5]
    m.allreduce_start_in_step = {1024.0: 5e-5}
    return m


def test_the_handoff_is_paid_by_the_compute_thread_before_the_rest_of_the_allreduce():
    # Standard: each of the 4 all-reduces exposes 0.05 + (0.1 - 0.02) = 0.13 ms, 0.02 of it in the
    # call (handoff), the progress thread's 0.03 and the rest, 0.08, waiting. Ladder (link 0,
    # interference 0): the calls are paid, and the progress thread's work stretches the next
    # module in full (3 times) or, after the last module, is waited for with the last rest.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2)
    m = _handoff_machine()
    std = simulate(Schedule.of("standard", s, 2), _costs(1e-3, 2e-3), w, m, 1024)
    assert std.total[0] == pytest.approx(2 * 3e-3 + 4 * 1.3e-4)
    assert std.handoff[0] == pytest.approx(4 * 2e-5) and std.wait[0] == pytest.approx(4 * 1.1e-4)
    lad = simulate(Schedule.of("ladder", s, 2), _costs(1e-3, 2e-3), w, m, 1024)
    assert lad.total[0] == pytest.approx(2 * 3e-3 + 4 * 5e-5 + 8e-5)
    assert lad.handoff[0] == pytest.approx(4 * 2e-5) and lad.stretch[0] == pytest.approx(3 * 3e-5)
    assert lad.wait[0] == pytest.approx(3e-5 + 8e-5)
    # Another message size: the hot loop's hand-off, so r in total as before.
    other = simulate(Schedule.of("standard", s, 2), _costs(1e-3, 2e-3), w, m, 4096)
    assert other.total[0] == pytest.approx(2 * 3e-3 + 4 * 1e-4)


def test_an_overlapped_allreduce_costs_its_measured_call_and_stretch_of_the_next_module():
    # The hand-off above (call 0.02, work 0.03, rest 0.08 ms) and interference 0.5; the cell's ladder
    # pass measured the overlapped call at 0.06 ms and its stretch of the next module at 0.07 ms.
    # Ladder, link 0 (ms): a0 [0, 1], call .06 -> 1.06; AR0 work [1.06, 1.09], real [1.09, 1.17].
    # m0 1.06 + 2 + .07 (the measured stretch, no interference on top) = 3.13, call -> 3.19.
    # a1 3.19 + 1 + .07 -> 4.26, call -> 4.32; m1 4.32 + 2 + .07 -> 6.39; the last module's
    # all-reduce has no module after it: the call .02 -> 6.41, work and rest -> 6.52.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2)
    m = _handoff_machine(interference=0.5, allreduce_start_overlapped_in_step={1024.0: 6e-5},
                         allreduce_stretch_overlapped_in_step={1024.0: 7e-5})
    lad = simulate(Schedule.of("ladder", s, 2), _costs(1e-3, 2e-3), w, m, 1024)
    assert lad.total[0] == pytest.approx(6.52e-3)
    assert lad.handoff[0] == pytest.approx(3 * 6e-5 + 2e-5) and lad.stretch[0] == pytest.approx(3 * 7e-5)
    assert lad.wait[0] == pytest.approx(1.1e-4)
    # Standard waits for every all-reduce before the next module: nothing is overlapped.
    unmeasured = _handoff_machine(interference=0.5)
    for variant in ("standard", "parallel"):
        assert simulate(Schedule.of(variant, s, 2), _costs(1e-3, 2e-3), w, m, 1024).total[0] == pytest.approx(
            simulate(Schedule.of(variant, s, 2), _costs(1e-3, 2e-3), w, unmeasured, 1024).total[0])
    # Another message size: not measured there, so the call, the work and the interference.
    assert simulate(Schedule.of("ladder", s, 2), _costs(1e-3, 2e-3), w, m, 4096).total[0] == pytest.approx(
        simulate(Schedule.of("ladder", s, 2), _costs(1e-3, 2e-3), w, unmeasured, 4096).total[0])


def test_the_rank_skew_delays_each_real_allreduce_which_ladder_hides_and_standard_waits_for():
    # r = 0.1 ms (no hand-off); the other rank reaches each all-reduce 0.05 ms later on average after a
    # module, 0.08 ms after a layer. Standard and parallel wait for it at every all-reduce; ladder's
    # all-reduce, now 0.15 ms after its module, still ends inside the next module (1 or 2 ms), so
    # only the last one's skew shows.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2)
    m = machine(r=1e-4, rank_skew_module_in_step={1024.0: 5e-5}, rank_skew_layer_in_step={1024.0: 8e-5})
    base = machine(r=1e-4)
    costs = _costs(1e-3, 2e-3)
    step = {(v, mc is m): simulate(Schedule.of(v, s, 2), costs, w, mc, 1024).total[0]
            for v in ("standard", "ladder", "parallel") for mc in (m, base)}
    assert step["standard", True] - step["standard", False] == pytest.approx(4 * 5e-5)
    assert step["parallel", True] - step["parallel", False] == pytest.approx(2 * 8e-5)
    assert step["ladder", True] - step["ladder", False] == pytest.approx(5e-5)
    # Another message size (the prefill's): no skew measured there.
    assert simulate(Schedule.of("standard", s, 2), costs, w, m, 4096).total[0] == pytest.approx(step["standard", False])


def test_a_wait_hides_the_progress_threads_work_and_may_then_sleep_past_the_link():
    # Ladder, attention 0.545 ms, MLP 1 ms, link D = 0.5 ms, overshoot 0.05 ms, the hand-off above
    # (call 0.02, work 0.03, rest 0.08). Times in ms:
    # a0 [0, .545], call -> .565; AR0 work [.565, .595], real [.595, .675], ready 1.175.
    # m0 from .565, stretched by AR0's work: 1.595, call -> 1.615; AR1 work [1.615, 1.645], real
    #   [1.645, 1.725], ready 2.225.
    # a1: AR0 long done; from 1.615, stretched .03: 2.19, call -> 2.21; AR2 work [2.21, 2.24], ready 2.82.
    # m1 waits for AR1 from 2.21 (AR2's work runs meanwhile): sleeps to 2.225 + .05 = 2.275;
    #   [2.275, 3.275], call -> 3.295; AR3 work [3.295, 3.325], real [3.325, 3.405], ready 3.905.
    # end: AR3 at 3.905 + .05 = 3.955. Paying all 0.05 in the call, a1 would end at 2.24, past
    # AR1's 2.225, and not sleep: 3.92.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2, link_latency_us=500)
    t = simulate(Schedule.of("ladder", s, 2), _costs(5.45e-4, 1e-3), w, _handoff_machine(overshoot=5e-5), 1024)
    assert t.total[0] == pytest.approx(3.955e-3)
    assert t.wait[0] == pytest.approx((2.275 - 2.21 + 3.955 - 3.295) * 1e-3)


def test_ladder_step_by_hand():
    # The same, ladder, no interference (ms): a0 [0, 1], AR0 real [1, 1.1], ready 1.6.
    # m0 [1, 3] (reads through -1), AR1 real [3, 3.1], ready max(3.1, 1.6) + 0.5 = 3.6.
    # a1: settle AR0 at 3 (ready 1.6 passed: no sleep) + add -> 3.02; [3.02, 4.02]; AR2 [4.02, 4.12], ready 4.62.
    # m1: settle AR1 at 4.02 (ready 3.6 passed) -> 4.04; [4.04, 6.04]; AR3 [6.04, 6.14], ready 6.64.
    # end: settle AR2 at 6.04 (ready 4.62 passed) -> 6.06; settle AR3: sleep to 6.64 + 0.05 -> 6.69, + add 6.71.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2, link_latency_us=500)
    m = machine(r=1e-4, overshoot=5e-5)
    t = simulate(Schedule.of("ladder", s, 2), _costs(1e-3, 2e-3, 2e-5), w, m, 1024)
    assert t.total[0] == pytest.approx(6.71e-3)
    assert t.wait[0] == pytest.approx(6.69e-3 - 6.06e-3)


def test_ladder_with_a_link_slower_than_compute_queues_on_it():
    # Attention and MLP 0.2 ms each, D = 1 ms, r = 0: transfers leave the link 1 ms apart
    # (link_free = max(real_end, link_free) + D), so the four all-reduces end at 1.2, 2.2, 3.2, 4.2 ms.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2, link_latency_us=1000)
    t = simulate(Schedule.of("ladder", s, 2), _costs(2e-4, 2e-4), w, machine(), 1024)
    # a0 [0,.2] ready 1.2; m0 [.2,.4] ready 2.2; a1 waits AR0 -> 1.2, [1.2,1.4] ready 3.2;
    # m1 waits AR1 -> 2.2, [2.2,2.4] ready 4.2; end waits AR2 (3.2) and AR3 (4.2).
    assert t.total[0] == pytest.approx(4.2e-3)


def test_interference_stretches_the_overlapping_compute():
    # Ladder, attention 1 ms, MLP 2 ms, r = 0.3 ms fully overlapped, interference 0.5: every module
    # after the first loses 0.5 * 0.3 ms while the previous module's all-reduce runs.
    s = Shape("s", layers=2, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2)
    base = simulate(Schedule.of("ladder", s, 2), _costs(1e-3, 2e-3), w, machine(r=3e-4), 1024)
    slowed = simulate(Schedule.of("ladder", s, 2), _costs(1e-3, 2e-3), w, machine(r=3e-4, interference=0.5), 1024)
    assert slowed.stretch[0] == pytest.approx(3 * 0.5 * 3e-4)
    assert slowed.total[0] - base.total[0] == pytest.approx(3 * 0.5 * 3e-4)


def test_parallel_settles_one_allreduce_per_layer():
    s = Shape("s", layers=3, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2, link_latency_us=100)
    t = simulate(Schedule.of("parallel", s, 2), _costs(1e-3, 1e-3), w, machine(r=1e-5), 1024)
    assert t.wait[0] == pytest.approx(3 * (1e-5 + 1e-4))
    assert t.total[0] == pytest.approx(3 * (2e-3 + 1e-5 + 1e-4))


def test_desync_waits_only_for_the_allreduces_its_pattern_keeps():
    # Five layers: default keeps every MLP's (5), 4x layers 1, 3 and the last (3), infinite the
    # last only (1), as src/model/schedule.cpp; each kept one waits r + D like standard's.
    s = Shape("s", layers=5, hidden=256, heads=4, kv_heads=4, ffn=64, vocab=10)
    w = Workload(s, tp=2, link_latency_us=100)
    for pattern, kept in (("default", 5), ("4x", 3), ("infinite", 1)):
        sched = Schedule.of("desync", replace(s, desync_pattern=pattern), 2)
        assert sched.allreduces == kept
        assert [i // 2 for i in range(10) if sched.reduces(i)] == {5: [0, 1, 2, 3, 4], 3: [1, 3, 4], 1: [4]}[kept]
        t = simulate(sched, _costs(1e-3, 1e-3), w, machine(r=1e-5), 1024)
        assert t.wait[0] == pytest.approx(kept * (1e-5 + 1e-4))
    assert Schedule.of("desync", s, 1).allreduces == 0
    with pytest.raises(AnalysisError, match="desync pattern '8x'"):
        Schedule.of("desync", replace(s, desync_pattern="8x"), 2)


def test_gemm_time_from_the_table_and_the_formula():
    m = Machine(mem_bw_Bps=1e10, gemm_flops=1e11,
                gemm_table=[[1, 100, 50, 1, 2e-6], [4, 100, 50, 1, 5e-6], [64, 100, 50, 0, 4e-5]])
    assert m.gemm_s(1, 100, 50, True, 4, 4) == 2e-6
    assert m.gemm_s(2, 100, 50, True, 4, 4) == pytest.approx(3e-6)  # linear in m between measured rows
    # Beyond the measured rows: the nearest measured time scaled by the formula's ratio.
    formula = lambda rows: max((100 * 50 * 4 + (rows * 50 + rows * 100) * 4) / 1e10, 2 * rows * 100 * 50 / 1e11)
    assert m.gemm_s(128, 100, 50, False, 4, 4) == pytest.approx(4e-5 * formula(128) / formula(64))
    # Another matrix: the roofline formula.
    assert m.gemm_s(8, 10, 20, True, 2, 4) == pytest.approx(max((10 * 20 * 2 + (8 * 20 + 8 * 10) * 4) / 1e10,
                                                               2 * 8 * 10 * 20 / 1e11))


def test_decode_step_of_the_app_on_a_formula_machine_by_hand():
    # Upper-bound, 1 layer, batch 1, context c: attention = norm + GEMM(q) + RoPE x2 + append
    # + attention x2 + GEMM(o); every kernel max(bytes/BW, FLOPs/F) + overhead. Bandwidth-bound.
    s = Shape("s", layers=1, hidden=64, heads=4, kv_heads=2, ffn=128, vocab=100)
    w = Workload(s, tp=2, batch=1, prompt_len=10, gen_len=2, act_bytes=4, weight_bytes=4)
    m = Machine(mem_bw_Bps=1e9, gemm_flops=1e15, kernel_overhead_s=1e-6,
                allreduce={"on": {"alpha_s": 1e-5, "busbw_Bps": 1e9}})  # for standard's (the speedup's base)
    p, = predict(w, m, ("upper-bound",))
    dh, Hl, Kl, Fl, c = 16, 2, 1, 64, 11
    q = (Hl + 2 * Kl) * dh

    def k(nbytes):
        return nbytes / 1e9 + 1e-6

    def gemm(mm, n, kk):
        return k(n * kk * 4 + (mm * kk + mm * n) * 4)

    norm = k(2 * 64 * 4 + 64 * 4)
    attention = (norm + gemm(1, q, 64) + 2 * k(2 * (Hl + Kl) * dh * 4) + k(4 * Kl * dh * 4)
                 + k(2 * Kl * c * dh * 4 + 2 * Hl * dh * 4) + 1e-6 + gemm(1, 64, Hl * dh))
    mlp = norm + gemm(1, 2 * Fl, 64) + k(3 * Fl * 4) + gemm(1, 64, Fl)
    add = k(3 * 64 * 4)
    step = (k(2 * 64 * 4) + attention + add + mlp + add
            + k(2 * 64 * 4) + k(2 * 64 * 4 + 64 * 4) + gemm(1, 100, 64) + k(100 * 4))
    assert p.step_s == pytest.approx(step, rel=1e-12)
    assert p.attention_ms == pytest.approx(1e3 * attention)


def test_measured_kernels_replace_their_formulas():
    # The same cell with every non-GEMM kernel of a decode step measured (the cell's replayed step):
    # each is its measured time per call; attention, measured at 14 keys, scales with the keys by
    # the formula's ratio (here exactly linear: bandwidth-bound, no overhead); the unmeasured argmax
    # keeps its formula. The prefill takes its own measured attention (10 rows), nothing of the decode's.
    s = Shape("s", layers=1, hidden=64, heads=4, kv_heads=2, ffn=128, vocab=100)
    w = Workload(s, tp=2, batch=1, prompt_len=10, gen_len=2, act_bytes=4, weight_bytes=4)
    base = Machine(mem_bw_Bps=1e9, gemm_flops=1e15, allreduce={"on": {"alpha_s": 1e-5, "busbw_Bps": 1e9}})
    dh, Hl, Kl, c = 16, 2, 1, 11
    decode = [["rms_norm", 1, 1, 0, 1e-5], ["apply_rope", 1, 1, 0, 2e-5], ["append_kv", 1, 1, 0, 3e-5],
              ["causal_attention", 1, 1, 14, 4e-5], ["silu_mul", 1, 1, 0, 5e-5], ["add_into", 1, 1, 0, 6e-5],
              ["embed_tokens", 1, 1, 0, 7e-5], ["gather_last", 1, 1, 0, 8e-5]]
    others = [["rms_norm", 1, 4, 0, 1.0],  # another batch's
              ["causal_attention", 0, 10, 10, 1e-3]]  # the prefill's (B * S = 10 rows)
    p0, = predict(w, base, ("upper-bound",))
    p, = predict(w, Machine(**{**vars(base), "kernel_table": decode + others}), ("upper-bound",))

    def attention_bytes(keys):
        return 2 * Kl * keys * dh * 4 + 2 * Hl * dh * 4

    attention = 4e-5 * attention_bytes(c) / attention_bytes(14)
    formula = {"norm": (2 * 64 * 4 + 64 * 4) / 1e9, "rope": 2 * 2 * (Hl + Kl) * dh * 4 / 1e9,
               "append": 4 * Kl * dh * 4 / 1e9, "attention": attention_bytes(c) / 1e9, "silu": 3 * 64 * 4 / 1e9,
               "add": 3 * 64 * 4 / 1e9, "embed": 2 * 64 * 4 / 1e9, "gather": 2 * 64 * 4 / 1e9}
    # Per step: embed, 2 norms + rope + append + attention + silu + 2 adds, gather and the final norm.
    measured = 7e-5 + 2 * 1e-5 + 2e-5 + 3e-5 + attention + 5e-5 + 2 * 6e-5 + 8e-5 + 1e-5
    formulas = (formula["embed"] + 2 * formula["norm"] + formula["rope"] + formula["append"] + formula["attention"]
                + formula["silu"] + 2 * formula["add"] + formula["gather"] + formula["norm"])
    assert p.step_s - p0.step_s == pytest.approx(measured - formulas, rel=1e-9)
    prefill_attention = (2 * 10 * Kl * dh * 4 + 2 * 10 * Hl * dh * 4) / 1e9  # bandwidth-bound
    assert p.prefill_s - p0.prefill_s == pytest.approx(1e-3 - prefill_attention, rel=1e-9)


def test_allreduce_from_alpha_and_bus_bandwidth_and_across_nodes():
    m = Machine(allreduce={"on": {"alpha_s": 1e-5, "busbw_Bps": 1e11}, "off": {"alpha_s": 4e-5, "busbw_Bps": 1e10},
                           "inter_node": {"alpha_s": 2e-5, "busbw_Bps": 5e10}}, ranks_per_node=8)
    assert m.allreduce_s(1e6, 8, "on") == pytest.approx(1e-5 + 1.75e6 / 1e11)
    assert m.allreduce_s(1e6, 8, "off") == pytest.approx(4e-5 + 1.75e6 / 1e10)
    assert m.allreduce_s(1e6, 16, "on") == pytest.approx(1e-5 + 2e-5 + 2 * 15 / 16 * 1e6 / 5e10)
    assert m.allreduce_s(1e6, 1, "on") == 0.0
    ring = Machine(allreduce={"on": {"alpha_per_step_s": 2e-6, "busbw_Bps": 1e11}})  # the textbook ring
    assert ring.allreduce_s(1e6, 4, "on") == pytest.approx(2 * 3 * 2e-6 + 1.5e6 / 1e11)
    with pytest.raises(AnalysisError):
        Machine().allreduce_s(1e3, 2)


def test_allreduce_table_interpolates_and_extrapolates_affinely():
    t = AllReduceTable(ranks=2, bytes=[1e3, 1e4, 1e5], time_s=[1e-5, 2e-5, 6e-5])
    assert t.time(500) == 1e-5
    assert t.time(5.5e4) == pytest.approx(4e-5)
    assert t.time(2e5) == pytest.approx(6e-5 + 4e-5 / 9e4 * 1e5)


def test_shapes_from_configs_and_names():
    s = Shape.named("llama-3-70b")
    assert (s.layers, s.hidden, s.heads, s.kv_heads, s.ffn, s.vocab) == (80, 8192, 64, 8, 28672, 128256)
    w = Workload(Shape.named("llama-3.1-405b"), tp=16)
    assert (w.heads, w.kv_heads, w.ffn) == (8, 1, 3328)
    with pytest.raises(AnalysisError):
        Workload(Shape.named("1b"), tp=16)  # 24 heads do not divide by 16
    with pytest.raises(AnalysisError):
        Shape.named("no-such-model")


def test_machine_files_round_trip(tmp_path):
    m = machine(r=1e-4, interference=0.3, overshoot=1e-5, kernel_overhead_s=2e-6)
    path = tmp_path / "m.json"
    path.write_text(m.to_json())
    again = Machine.from_json(path)
    assert again.to_json() == m.to_json()
    path.write_text('{"mem_bw": 1}')
    with pytest.raises(AnalysisError, match="unknown machine key"):
        Machine.from_json(path)


def test_speedups_are_over_the_predicted_standard():
    w = Workload(TOY, tp=2, batch=1, prompt_len=16, gen_len=8, link_latency_us=300)
    preds = predict(w, machine(r=5e-5), ("ladder", "upper-bound"))
    standard, = predict(w, machine(r=5e-5), ("standard",))
    for p in preds:
        assert p.speedup == pytest.approx(p.tokens_per_s / standard.tokens_per_s)
    assert all(math.isfinite(p.tokens_per_s) and p.tokens_per_s > 0 for p in preds)
