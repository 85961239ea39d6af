"""bb.DailyRefit: the forecaster's loop. Each day's fit is warm-started from the latest earlier day's, saved,
and recorded in a ledger; any day can be made again from its seed and its warm-start file, bit for bit."""
import json

import numpy as np
import pytest

import brr_bayes as bb

RNG = np.random.default_rng(5)
POLLS = np.cumsum(0.05 * RNG.standard_normal(30))


def build(days):
    """A random walk over the days so far, one noisy poll a day."""
    with bb.Model(coords={"day": np.arange(days)}) as m:
        sigma = bb.HalfNormal("sigma", 0.1)
        z = bb.Normal("z", 0, 1, dims="day")
        bb.Normal("y", bb.math.cumsum(sigma * z), 0.05, observed=POLLS[:days])
    return m


@pytest.fixture()
def runner(tmp_path):
    return bb.DailyRefit(build, tmp_path, seed=7, draws=100, tune=300, chains=2, progressbar=False)


def test_each_day_warms_from_the_one_before_and_the_ledger_says_so(runner, tmp_path):
    with pytest.warns(UserWarning, match="warm_start: 'z'"):
        for day, n in (("2024-10-01", 20), ("2024-10-02", 21), ("2024-10-03", 22)):
            fit = runner.fit(day, n)
    ledger = runner.ledger()
    assert [ledger[d]["warm_start"] for d in sorted(ledger)] == [None, "2024-10-01.nc", "2024-10-02.nc"]
    assert fit.config["tune"] == bb.infer.warm_start.WARM_TUNE
    assert bb.Result.load(tmp_path / "2024-10-01.nc").config["tune"] == 300
    assert all(ledger[d]["max_rhat"] < 1.1 for d in ledger)
    assert json.loads((tmp_path / "ledger.json").read_text()) == ledger
    np.testing.assert_array_equal(runner.load("2024-10-03").unconstrained, fit.unconstrained)


def test_a_day_is_made_again_bit_for_bit_from_its_seed_and_warm_start_file(runner):
    runner.fit("2024-10-01", 20)
    runner.fit("2024-10-02", 21)
    runner.fit("2024-10-03", 22)
    again = runner.reproduce("2024-10-02", 21)      # from 2024-10-01.nc, though 10-03 is fitted by now
    np.testing.assert_array_equal(again.unconstrained, runner.load("2024-10-02").unconstrained)
    with pytest.raises(AssertionError, match="draws differently"):
        runner.reproduce("2024-10-02", 20)          # other data


def test_a_replaced_file_and_bad_days_are_refused(runner, tmp_path):
    runner.fit("2024-10-01", 20)
    runner.fit("2024-10-02", 21)
    (tmp_path / "2024-10-01.nc").write_bytes((tmp_path / "2024-10-02.nc").read_bytes())
    with pytest.raises(ValueError, match="not the file the ledger recorded"):
        runner.load("2024-10-01")
    with pytest.raises(KeyError, match="no fit of 2024-09-30"):
        runner.load("2024-09-30")
    with pytest.raises(ValueError, match="a day is a date or a string"):
        runner.fit("../x", 20)
    with pytest.raises(ValueError, match="chooses warm_start= for each day itself"):
        bb.DailyRefit(build, tmp_path, warm_start="x")


def test_days_may_be_dates_and_the_seed_depends_on_the_day_alone(tmp_path):
    import datetime
    a = bb.DailyRefit(build, tmp_path / "a", seed=7)
    b = bb.DailyRefit(build, tmp_path / "b", seed=7)
    assert a.day_seed(datetime.date(2024, 10, 2)) == b.day_seed("2024-10-02") != a.day_seed("2024-10-03")
