"""Regression guard on gradient throughput, relative to numpy measured in the same run (see
benchmarks/harness/guard.py for the baseline and tolerance). A timing, so not in the default suite (no test
may pass only because of the machine it ran on or how busy it was): run it with ``pytest -m perf``."""
import pytest

from harness import guard

pytestmark = pytest.mark.perf


def test_w2_gradient_throughput_relative_to_numpy_has_not_regressed():
    ratio = guard.measure_ratio(repeats=5)
    floor = guard.TOLERANCE * guard.BASELINE_RATIO
    assert ratio > floor, (f"brr_bayes W2 gradient is {ratio:.2f}x numpy's speed, below the guard's floor "
                           f"{floor:.2f}x (baseline {guard.BASELINE_RATIO}x): a performance regression")


def test_guard_catches_an_emulated_2x_slowdown():
    ratio = guard.measure_ratio(repeats=5, slowdown=2)
    assert ratio < guard.TOLERANCE * guard.BASELINE_RATIO, ratio
