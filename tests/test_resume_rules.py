"""What draws/tune/settings mean on resume=, and refusing a run from another model or data."""
import warnings

import numpy as np
import pytest

import brr_bayes as bb

Y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
S = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])


def schools(y=Y, tau_scale=5.0):
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", tau_scale)
        z = bb.Normal("z", 0, 1, shape=8)
        bb.Normal("y", mu + tau * z, S, observed=y)
    return m


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


@pytest.fixture(scope="module")
def first():
    return quiet(bb.sample, schools(), draws=100, tune=100, chains=2, seed=5, progressbar=False)


def test_draws_are_the_draws_to_add(first):
    m = schools()
    more = quiet(bb.sample, m, resume=first, draws=150, progressbar=False)
    assert more.chain_draws == [150, 150]
    whole = quiet(bb.sample, m, draws=250, tune=100, chains=2, seed=5, progressbar=False)
    np.testing.assert_array_equal(bb.concat(first, more).unconstrained, whole.unconstrained)


def test_a_finished_run_needs_draws(first):
    with pytest.raises(ValueError, match="draws=N to add"):
        bb.sample(schools(), resume=first, progressbar=False)


def test_tune_and_settings_passed_on_resume_are_ignored_with_a_warning(first):
    m = schools()
    with pytest.warns(UserWarning, match=r"ignored: metric='dense'.*target_accept=0\.95.*tune=500"):
        more = bb.sample(m, resume=first, draws=20, tune=500, target_accept=0.95, metric="dense", progressbar=False)
    assert more.config["target_accept"] == first.config["target_accept"] and more.config["metric"] == "diag"
    plain = quiet(bb.sample, m, resume=first, draws=20, progressbar=False)
    np.testing.assert_array_equal(more.unconstrained, plain.unconstrained)   # nothing changed the draws


def test_same_settings_passed_again_do_not_warn(first):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        bb.sample(schools(), resume=first, draws=5, tune=100, metric="diag", progressbar=False)
    assert not [w for w in seen if "resume" in str(w.message)]


@pytest.mark.parametrize("other", [
    lambda: schools(tau_scale=2.5),        # another prior, same dimension
    lambda: schools(y=Y + 1.0),            # same model, new data
])
def test_another_model_or_data_is_refused(first, other):
    with pytest.raises(ValueError, match="different model or different data"):
        bb.sample(other(), resume=first, draws=10, progressbar=False)


def test_the_same_model_built_again_is_accepted(first):
    more = quiet(bb.sample, schools(), resume=first, draws=10, progressbar=False)
    assert more.draws == 10


def test_chains_mismatch_and_bad_draws_are_refused(first):
    with pytest.raises(ValueError, match="the run has 2 chains, got chains=3"):
        bb.sample(schools(), resume=first, chains=3, draws=10, progressbar=False)
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        bb.sample(schools(), resume=first, draws=0, progressbar=False)
    with pytest.raises(TypeError, match="resume must be a bb.Result"):
        bb.sample(schools(), resume=42, progressbar=False)


def test_fingerprint_survives_save_and_load(first, tmp_path):
    loaded = bb.Result.load(first.save(tmp_path / "r.nc"))
    more = quiet(bb.sample, schools(), resume=loaded, draws=10, progressbar=False)
    assert more.draws == 10
    with pytest.raises(ValueError, match="different model"):
        bb.sample(schools(tau_scale=1.0), resume=loaded, draws=10, progressbar=False)


def test_sampler_states_are_versioned(first):
    # the earlier layouts each resume from their fixture files: tests/test_sampler_state.py
    import copy
    assert all(s["version"] == 3 for s in first.sampler_states)
    newer = copy.copy(first)
    newer.sampler_states = [dict(s, version=4) for s in first.sampler_states]
    with pytest.raises(ValueError, match="sampler state has version 4; this brr_bayes reads versions 1 to 3"):
        bb.sample(schools(), resume=newer, draws=5, progressbar=False)
