"""bb.testing.assert_posterior_matches: passes two correct fits of one model, fails a wrong model naming
the parameters and their z, and takes a saved run or a summary table as the reference."""
import warnings

import numpy as np
import pandas as pd
import pytest

import brr_bayes as bb
from workloads import data, models

KW = dict(draws=1000, tune=500, chains=2, progressbar=False)


def schools(scale):
    """W1 with every school's standard error multiplied by ``scale`` (a wrong likelihood)."""
    d = data.make_w1()
    d["sigma"] = d["sigma"] * scale
    return models.eight_schools(d)


def fit(model, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(model, seed=seed, **KW)


@pytest.fixture(scope="module")
def reference():
    return fit(models.eight_schools(data.make_w1()), seed=1)


def test_a_second_correct_fit_passes(reference, tmp_path):
    again = fit(models.eight_schools(data.make_w1()), seed=2)
    bb.testing.assert_posterior_matches(again, reference)
    bb.testing.assert_posterior_matches(again, reference.save(tmp_path / "ref.nc"))        # a saved run
    table = bb.testing.reference_table(reference)
    assert list(table.index[:3]) == ["mu", "tau", "theta_raw[0]"]     # by position, whatever the coords
    table.to_csv(tmp_path / "ref.csv")
    bb.testing.assert_posterior_matches(again, pd.read_csv(tmp_path / "ref.csv", index_col=0))   # a kept table


def test_a_likelihood_with_the_wrong_scale_fails_naming_the_parameters(reference):
    # eight schools with every standard error a quarter of the data's: theta pulled far towards y
    wrong = fit(schools(scale=0.25), seed=3)
    with pytest.raises(AssertionError, match=r"the posterior differs from the reference in \d+ of \d+ comparisons "
                                             r"\(\|z\| > 5\): .*(mu|tau|theta\[\d\]): (mean|sd) .* \(z = [+-]\d"):
        bb.testing.assert_posterior_matches(wrong, reference, var_names=["mu", "tau", "theta"])


def test_missing_parameters_and_bad_arguments_are_named(reference):
    with bb.Model() as m:
        bb.Normal("mu", 0, 1)
    other = fit(m, seed=4)
    with pytest.raises(AssertionError, match=r"tau: not in the result"):
        bb.testing.assert_posterior_matches(other, reference)
    with pytest.raises(TypeError, match=r"the reference must be a bb.Result, the path of a saved one, or a summary"):
        bb.testing.assert_posterior_matches(other, {"mu": 1.0})
    with pytest.raises(ValueError, match=r"needs the columns 'mean' and 'sd'"):
        bb.testing.assert_posterior_matches(other, pd.DataFrame({"mean": [0.0]}, index=["mu"]))
    with pytest.raises(ValueError, match=r"z must be a positive number"):
        bb.testing.assert_posterior_matches(other, reference, z=0)
    assert np.isfinite(other.posterior["mu"]).all()


def test_the_reference_table_is_not_rounded():
    # ArviZ's summary rounds by default: a parameter of scale 1e-3 had an MCSE of 0, and any difference from
    # the reference scored z = inf
    with bb.Model() as m:
        bb.Normal("small", 0, 1e-3)
    res = bb.sample(m, draws=300, tune=300, chains=2, seed=4, progressbar=False)
    table = bb.testing.reference_table(res)
    assert 0 < table.at["small", "mcse_sd"] < 1e-4 and table.at["small", "sd"] != round(table.at["small", "sd"], 4)
    bb.testing.assert_posterior_matches(res, res)


def test_a_model_s_speed_is_measured_and_a_slowdown_caught(tmp_path):
    import json
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 1)
        bb.Normal("y", mu, 1, observed=np.zeros(1000))
    f = bb.testing.logp_grad_call(m)
    assert f() is None
    fast = bb.testing.speed(m, seconds=0.1)
    assert fast > 0     # no wall-clock bound here: the baselines below are written far from any real speed
    path = tmp_path / "speed.json"
    assert bb.testing.assert_not_slower(m, path, seconds=0.1) > 0 and path.exists()     # the first run records
    path.write_text(json.dumps({"evals_per_second": fast / 1000, "dim": m.dim}))          # as if 1000x slower
    bb.testing.assert_not_slower(m, path, seconds=0.1)
    path.write_text(json.dumps({"evals_per_second": 1000 * fast, "dim": m.dim}))          # as if it had been 1000x
    with pytest.raises(AssertionError, match="logp\\+gradient speed is .* the .* recorded in"):
        bb.testing.assert_not_slower(m, path, seconds=0.1)
    with bb.Model() as other:
        bb.Normal("a", 0, 1, shape=3)
    with pytest.raises(ValueError, match="recorded for a model of 1 parameters, this one has 3"):
        bb.testing.assert_not_slower(other, path, seconds=0.1)
    with pytest.raises(ValueError, match="point must be 1 finite numbers"):
        bb.testing.logp_grad_call(m, point=np.zeros(2))


def test_the_timing_helpers_work_with_pytest_benchmark(benchmark):
    with bb.Model() as m:
        bb.Normal("mu", 0, 1, shape=10)
    benchmark.pedantic(bb.testing.logp_grad_call(m), rounds=5, iterations=10)
    assert benchmark.stats.stats.rounds == 5
