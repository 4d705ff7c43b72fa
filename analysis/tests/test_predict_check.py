"""`predict --check`: a verdict per cell, the component named for a miss, the rank skew counted
twice, and the measured speedups' intervals the predictions are judged against."""
import math

import numpy as np
import pandas as pd
import pytest

from analysis.cells import CELL_KEYS, speedup_interval
from analysis.cli import main
from analysis.predict_check import check, interval_note
from analysis.tests.calibrated import calibrated_files


def test_check_judges_every_cell_and_names_the_misses(tmp_path, capsys):
    # ladder measured 10% faster than predicted: tokens/s within 15%, but its speedup off by > 0.05.
    calibrated_files(tmp_path, latencies=(0.0, 500.0), factors={"ladder": 1.10})
    status = main(["predict", "--check", str(tmp_path), "--out-dir", str(tmp_path / "t")])
    out = capsys.readouterr().out
    assert status == 1
    check = pd.read_csv(tmp_path / "t" / "predict-check.csv")
    assert len(check) == 6
    verdict = check.set_index(["link", "variant"])["verdict"]
    assert set(verdict.xs("ladder", level="variant")) == {"MISS"}
    assert set(verdict.xs("standard", level="variant")) == {"ok"}
    assert check["tokens_error"].abs().max() == pytest.approx(1 - 1 / 1.10, abs=1e-9)
    assert "4 of 6 cells ok" in out
    assert "BW calibrated from `roofline_stream_triad_Bps` (6 cells)" in out
    assert (check.loc[check["verdict"] == "MISS", "why"].str.len() > 0).all()


def test_check_passes_when_measured_equals_predicted(tmp_path):
    calibrated_files(tmp_path, latencies=(0.0, 200.0))
    assert main(["predict", "--check", str(tmp_path)]) == 0


def test_rank_skew_is_what_compute_plus_wait_count_twice():
    from analysis.predict_check import _why, rank_skew_ms
    cell = dict(model="toy", device="cpu", dtype="fp32", prompt_len=16, p2p="emulated", link="emulated 50 us",
                tp=2, batch=4, gen_len=11, prefill_s_median=0.1, predicted_prefill_s=0.1,
                predicted_compute_ms=50.0, predicted_stretch_ms=0.0)
    # upper-bound: 50 ms of modules + 9 ms of other work (embedding, LM head, argmax) per step.
    # standard: rank A computes 50, rank B 54 ms; A waits 4 ms longer. Stored max over ranks:
    # compute 54 and wait 6 + 4 = 10, in a step of 54 + 6 + 9 = 69 ms: 4 ms counted twice.
    rows = pd.DataFrame([
        {**cell, "variant": "standard", "decode_s_median": 0.069 * 10, "breakdown_compute_s_median": 0.054,
         "breakdown_wait_s_median": 0.010, "predicted_step_ms": 64.0, "predicted_wait_ms": 5.0},
        {**cell, "variant": "upper-bound", "decode_s_median": 0.059 * 10, "breakdown_compute_s_median": 0.050,
         "breakdown_wait_s_median": 0.0, "predicted_step_ms": 58.0, "predicted_wait_ms": 0.0},
    ])
    skew = rank_skew_ms(rows)
    assert skew[0] == pytest.approx(4.0)
    assert np.isnan(skew[1])  # no wait: nothing counted twice
    # Without upper-bound's breakdown the other work is the predicted one (64 - 50 - 5 = 9 ms).
    alone = rank_skew_ms(rows.iloc[:1])
    assert alone[0] == pytest.approx(4.0)
    why = _why({**rows.iloc[0].to_dict(), "rank_skew_ms": skew[0]})
    assert why.startswith("exposed comm: measured 10.00 vs predicted 5.00 ms/step")
    assert "≈4.00 ms/step of rank skew counted in both compute and wait" in why


def _bootstrap_median_quantile(values, q):
    """The q-quantile of the median of len(values) (odd) draws with replacement, exactly: the
    median is at most the k-th smallest value when (n+1)/2 or more draws are, a binomial tail."""
    n, ordered, previous = len(values), sorted(values), 0.0
    for k in range(1, n + 1):
        p = k / n
        cdf = sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range((n + 1) // 2, n + 1))
        if cdf >= q:
            assert cdf - q > 0.01 and q - previous > 0.01, "q too near a jump: not a robust expectation"
            return ordered[k - 1]
        previous = cdf


def test_the_measured_speedups_interval_is_the_bootstrap_of_the_ratio_of_medians():
    # Samples without their repetition (no pairs): each median from its own draws. ladder constant
    # at 30 tok/s: the speedup's resampled values are 30 / standard's resampled
    # medians, so the interval's ends are 30 over the exact bootstrap quantiles of standard's median
    # (7 samples: the 2nd and 6th smallest; 2000 resamples reproduce them).
    cell = dict.fromkeys(CELL_KEYS, "x")
    standard = [9.0, 10.5, 10.0, 11.5, 9.5, 12.0, 10.8]
    rows = [{**cell, "variant": v, "tokens_per_s": t}
            for v, ts in (("standard", standard), ("ladder", [30.0] * 7), ("parallel", (12.0, 13.0)),
                          ("upper-bound", [20.0] * 3))
            for t in ts]
    interval = speedup_interval(pd.DataFrame(rows)).set_index("variant")
    assert "standard" not in interval.index  # its speedup is 1 by definition
    low, high = 30.0 / _bootstrap_median_quantile(standard, 0.975), 30.0 / _bootstrap_median_quantile(standard, 0.025)
    assert (low, high) == (30.0 / 11.5, 30.0 / 9.5)
    assert interval.loc["ladder", ["speedup_ci_low", "speedup_ci_high"]].tolist() == pytest.approx([low, high])
    assert interval.loc["parallel", ["speedup_ci_low", "speedup_ci_high"]].isna().all()  # 2 samples: too few to say how precise
    # 3 constant samples against standard's 7: the interval is still standard's spread.
    assert interval.loc["upper-bound", ["speedup_ci_low", "speedup_ci_high"]].tolist() == pytest.approx(
        [20.0 / 11.5, 20.0 / 9.5])


def test_a_variant_measured_in_the_same_repetitions_as_standard_is_paired_with_them():
    # Every ladder sample is exactly twice standard's of the same repetition of the same file: a
    # machine that was slow for both at once does not make the speedup uncertain. Paired draws give
    # exactly 2; drawn apart (another file's repetitions, or one sample short) they would not.
    cell = dict.fromkeys(CELL_KEYS, "x")
    standard = [9.0, 10.5, 10.0, 11.5, 9.5, 12.0, 10.8]
    rows = [{**cell, "file": "a.h5", "rep": rep, "variant": v, "tokens_per_s": factor * t}
            for v, factor in (("standard", 1.0), ("ladder", 2.0)) for rep, t in enumerate(standard)]
    paired = speedup_interval(pd.DataFrame(rows)).set_index("variant")
    assert paired.loc["ladder", ["speedup_ci_low", "speedup_ci_high"]].tolist() == [2.0, 2.0]
    unpaired = pd.DataFrame(rows[:-1])  # ladder's last repetition missing: no partner for standard's
    interval = speedup_interval(unpaired).set_index("variant").loc["ladder"]
    assert interval["speedup_ci_low"] < 2.0 * 10.5 / 10.8 and interval["speedup_ci_high"] > 2.0


def test_check_says_which_predictions_lie_inside_the_measured_interval():
    cell = dict.fromkeys(CELL_KEYS, 1)
    stats = pd.DataFrame([
        {**cell, "variant": "standard", "tokens_per_s_median": 10.0, "speedup": 1.0, "predicted_tokens_per_s": 10.0,
         "predicted_speedup": 1.0, "speedup_ci_low": np.nan, "speedup_ci_high": np.nan},
        # missed by 0.08, but inside a measured interval 0.2 wide: the measurement cannot tell
        {**cell, "variant": "ladder", "tokens_per_s_median": 12.0, "speedup": 1.2, "predicted_tokens_per_s": 12.8,
         "predicted_speedup": 1.28, "speedup_ci_low": 1.1, "speedup_ci_high": 1.3},
        # missed by 0.08 and outside an interval 0.04 wide: the model's own error
        {**cell, "variant": "parallel", "tokens_per_s_median": 11.0, "speedup": 1.1, "predicted_tokens_per_s": 11.8,
         "predicted_speedup": 1.18, "speedup_ci_low": 1.08, "speedup_ci_high": 1.12},
    ])
    result = check(stats.assign(gen_len=1, decode_s_median=0.0, prefill_s_median=0.1, predicted_step_ms=0.0,
                                predicted_prefill_s=0.1))
    by_variant = result.set_index("variant")
    assert by_variant["verdict"].tolist() == ["ok", "MISS", "MISS"]  # the tolerance is not relaxed
    assert by_variant.loc["ladder", "speedup_in_interval"] == True  # noqa: E712 (an object column)
    assert by_variant.loc["parallel", "speedup_in_interval"] == False  # noqa: E712
    assert "predicted speedup inside the measured one's 95% interval [1.100, 1.300]" in by_variant.loc["ladder", "why"]
    assert "outside the measured one's 95% interval [1.080, 1.120]" in by_variant.loc["parallel", "why"]
    assert interval_note(result, 0.05) == (
        " The measured speedups' own 95% intervals (bootstrap over the repetitions) are wider than ±0.05 in 1 of 2 "
        "cells (median half-width 0.060, largest 0.100); the predicted speedup lies inside the measured interval "
        "in 1 of 2 cells, and in 1 of the 2 speedup misses.")
