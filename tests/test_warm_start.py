"""Warm-started refits (bb.sample(warm_start=)): the earlier fit's positions, metric and step size reused,
parameters matched by name, grown or shrunk coordinates named, anything else refused by name; the warm
fit's posterior is the cold fit's."""
import os
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes.infer import warm_start as ws

KW = dict(chains=2, seed=3, progressbar=False)


def walk(T, houses=("A", "B", "C"), days=None, sigma_prior="half"):
    """A small poll aggregation: a national random walk over T days and house effects; polls every day."""
    rng = np.random.default_rng(0)
    truth = np.cumsum(0.05 * rng.standard_normal(40))
    t = np.repeat(np.arange(T), 3)
    h = np.tile(np.arange(len(houses)), T)
    y = rng.binomial(800, 1 / (1 + np.exp(-(truth[t] + 0.1 * (h - 1)))))
    with bb.Model(coords={"day": np.arange(T) if days is None else days, "house": list(houses)}) as m:
        sigma = bb.HalfNormal("sigma", 0.1) if sigma_prior == "half" else bb.Normal("sigma", 0, 0.1)
        z = bb.Normal("z", 0, 1, dims="day")
        house = bb.Normal("house", 0, 0.2, dims="house")
        trend = bb.math.cumsum(sigma * z)
        bb.Binomial("y", 800, logit_p=trend[t] + house[h], observed=y)
    return m


@pytest.fixture(scope="module")
def first():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(walk(20), draws=400, tune=600, **KW)


def _sample(model, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = bb.sample(model, **{**KW, **kw})
    return res, [str(w.message) for w in caught if "warm_start" in str(w.message)]


def test_a_warm_start_reuses_the_metric_step_size_and_positions_and_matches_the_cold_posterior(first):
    model = walk(20)
    warm, notes = _sample(model, draws=400, warm_start=first)
    assert warm.config["tune"] == ws.WARM_TUNE and not notes
    state = first.sampler_states[0]
    assert warm.config["step_size"] == pytest.approx(np.median([s["step_size"] for s in first.sampler_states]))
    minv = np.exp(np.mean([np.log(s["inv_metric"]) for s in first.sampler_states], axis=0))
    np.testing.assert_allclose(warm.config["warm_inv_metric"], minv)
    plan = ws.plan(model, first, 2)
    np.testing.assert_array_equal(plan.inits[0], state["position"])      # each chain where it stopped
    cold, _ = _sample(model, draws=1000, tune=1000, seed=11)
    bb.testing.assert_posterior_matches(warm, cold, z=5)
    assert sum(warm.grad_evals) < 0.75 * sum(first.grad_evals)    # 150 warm-up iterations, not 600


def test_without_warm_up_the_chains_sample_with_the_earlier_metric_and_step_size(first):
    res, _ = _sample(walk(20), draws=30, tune=0, warm_start=first)
    for s in res.sampler_states:
        np.testing.assert_allclose(s["inv_metric"], res.config["warm_inv_metric"], rtol=1e-15)
        assert s["step_size"] == res.config["step_size"]
    assert np.all(res.sample_stats["step_size"] == res.config["step_size"])


def test_a_grown_random_walk_starts_its_new_day_from_its_neighbour(first):
    model = walk(21)
    warm, notes = _sample(model, draws=400, warm_start=first)
    assert len(notes) == 1 and "'z' (20,) -> (21,)" in notes[0] and "1 new coordinate (20)" in notes[0]
    plan = ws.plan(model, first, 2)
    old = np.asarray(first.sampler_states[1]["position"])
    off, size = model.compiled.layout[model.free_rvs[1]]
    np.testing.assert_array_equal(plan.inits[1][off:off + 20], old[off:off + 20])
    assert plan.inits[1][off + 20] == old[off + 19]                   # day 20 starts at day 19's value
    assert warm.summary().r_hat.max() < 1.05
    cold, _ = _sample(model, draws=1000, tune=1000, seed=11)
    bb.testing.assert_posterior_matches(warm, cold, z=5)


def test_coordinates_are_matched_by_label_and_dropped_ones_named(first):
    # house 'B' gone, 'D' new: matched by coords labels, not by position
    model = walk(20, houses=("A", "C", "D"))
    plan = ws.plan(model, first, 2)
    notes = plan.notes
    assert len(notes) == 1 and "1 new coordinate (D)" in notes[0] and "1 dropped (B)" in notes[0]
    rv = {r.name: r for r in model.free_rvs}["house"]
    off, _ = model.compiled.layout[rv]
    old = np.asarray(first.sampler_states[0]["position"])
    old_off = {r["name"]: r["offset"] for r in first.config["layout"]}["house"]
    np.testing.assert_array_equal(plan.inits[0][off:off + 2], old[[old_off, old_off + 2]])   # A and C


def test_a_warm_start_from_a_saved_file_and_its_resume(first, tmp_path):
    path = first.save(tmp_path / "yesterday.nc")
    warm, _ = _sample(walk(20), draws=60, warm_start=str(path))
    assert warm.config["warm_start"] == os.path.abspath(str(path))
    more, _ = _sample(walk(20), resume=warm, draws=40)
    whole, _ = _sample(walk(20), draws=100, warm_start=str(path))
    np.testing.assert_array_equal(bb.concat(warm, more).unconstrained, whole.unconstrained)


@pytest.mark.parametrize("build,match", [
    (lambda: walk(20, sigma_prior="normal"), r"'sigma' was constrained as lower\[0.0\] and is identity now"),
    (lambda: _with_extra(), r"parameters differ from the earlier fit's: new \['extra'\]"),
])
def test_another_model_is_refused_by_name(first, build, match):
    with pytest.raises(ValueError, match=match):
        bb.sample(build(), warm_start=first, **KW)


def _with_extra():
    m = walk(20)
    with m:
        bb.Normal("extra", 0, 1)
    return m


def test_bad_warm_starts_are_refused(first, tmp_path):
    m = walk(20)
    with pytest.raises(ValueError, match="leave init= out"):
        bb.sample(m, warm_start=first, init={"sigma": 0.1}, **KW)
    with pytest.raises(ValueError, match="leave resume= out"):
        bb.sample(m, warm_start=first, resume=first, **KW)
    with pytest.raises(ValueError, match="warm_start= is for sampler='nuts'"):
        bb.sample(m, warm_start=first, sampler="chees", chains=8, progressbar=False)
    path = first.save(tmp_path / "run.nc")
    raw = bytearray(open(path, "rb").read())
    raw[len(raw) // 2] ^= 0xFF
    open(path, "wb").write(bytes(raw))
    with pytest.raises(bb.ResultFileError):
        bb.sample(m, warm_start=str(path), **KW)
    no_layout = bb.Result(first.posterior, first.sample_stats, first.unconstrained,
                          config={k: v for k, v in first.config.items() if k != "layout"},
                          sampler_states=first.sampler_states)
    with pytest.raises(ValueError, match="does not record its parameter layout"):
        bb.sample(m, warm_start=no_layout, **KW)
    with pytest.raises(TypeError, match="warm_start must be a bb.Result"):
        bb.sample(m, warm_start=42, **KW)


def test_a_glm_refit_with_a_new_survey_wave_and_a_new_state_warm_starts_from_the_earlier_fit():
    import pandas as pd
    rng = np.random.default_rng(1)

    def wave(n, states):
        df = pd.DataFrame({"state": rng.choice(states, n), "x": rng.normal(size=n)})
        df["vote"] = (rng.random(n) < 0.4 + 0.1 * (df["state"] == "NY")).astype(int)
        return df
    old = wave(400, ["CA", "NY", "TX"])
    kw = dict(family="bernoulli", chains=2, seed=1, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = bb.glm("vote ~ 1 + x + (1 | state)", old, draws=300, tune=500, **kw)
    grown = pd.concat([old, wave(100, ["CA", "NY", "TX", "WA"])])      # a new wave, with a new state
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warm = bb.glm("vote ~ 1 + x + (1 | state)", grown, draws=300, warm_start=first, **kw)
    notes = [str(w.message) for w in caught if "warm_start" in str(w.message)]
    assert len(notes) == 1 and "1 new coordinate (WA)" in notes[0]
    assert warm.result.config["tune"] == ws.WARM_TUNE
    assert warm.result.summary().r_hat.max() < 1.05


@pytest.fixture(scope="module")
def first_dense():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(walk(20), draws=400, tune=600, metric="dense", **KW)


def test_a_dense_fit_warm_starts_a_dense_run_with_its_whole_metric(first_dense):
    """The chains' mean dense inverse metric, off-diagonal included, is the warm run's metric from its
    first iteration; with a warm-up its estimates are blended with it; the posterior is the cold one's."""
    d = first_dense.config["layout"][-1]["offset"] + first_dense.config["layout"][-1]["size"]
    mean = np.mean([np.asarray(s["inv_metric"]).ravel() for s in first_dense.sampler_states], axis=0)
    mean = ((mean.reshape(d, d) + mean.reshape(d, d).T) / 2).ravel()
    assert mean.size == d * d and np.abs(mean.reshape(d, d) - np.diag(np.diag(mean.reshape(d, d)))).max() > 0
    res, notes = _sample(walk(20), draws=30, tune=0, metric="dense", warm_start=first_dense)
    assert not notes
    np.testing.assert_allclose(res.config["warm_inv_metric"], mean, rtol=1e-15)
    for s in res.sampler_states:
        np.testing.assert_allclose(np.ravel(s["inv_metric"]), mean, rtol=1e-15)
    warm, _ = _sample(walk(20), draws=400, metric="dense", warm_start=first_dense)
    cold, _ = _sample(walk(20), draws=1000, tune=1000, seed=11)
    bb.testing.assert_posterior_matches(warm, cold, z=5)


def test_a_dense_fit_warm_starts_other_runs_by_its_diagonal(first_dense):
    diag, _ = _sample(walk(20), draws=30, tune=0, warm_start=first_dense)          # a diag run
    minv = np.exp(np.mean([np.log(np.diag(np.reshape(s["inv_metric"], (24, 24)))) for s in first_dense.sampler_states],
                          axis=0))
    np.testing.assert_allclose(diag.config["warm_inv_metric"], minv)
    grown, notes = _sample(walk(21), draws=30, tune=0, metric="dense", warm_start=first_dense)
    assert any("dense metric is reused by its diagonal only" in n for n in notes)
    assert len(grown.config["warm_inv_metric"]) == 25
    # same sizes and offsets, other coords labels (house 'B' gone, 'D' new): rows would move, so the diagonal
    relabelled, notes = _sample(walk(20, houses=("A", "C", "D")), draws=30, tune=0, metric="dense",
                                warm_start=first_dense)
    assert any("dense metric is reused by its diagonal only" in n for n in notes)
    assert len(relabelled.config["warm_inv_metric"]) == 24


def test_a_bad_dense_warm_metric_is_refused_by_the_sampler():
    from brr_bayes import _backend
    m = walk(5)
    d = m.dim
    bad = np.eye(d)
    bad[0, 1] = 0.5                                  # not symmetric
    cfg = dict(draws=5, tune=0, chains=1, seed=1, metric="dense", warm_inv_metric=list(bad.ravel()))
    with pytest.raises(ValueError, match="symmetric"):
        _backend.core().start_sampling(m.compiled.program, cfg, [None])
    cfg["metric"] = "diag"
    with pytest.raises(ValueError, match="metric='dense' a matrix"):
        _backend.core().start_sampling(m.compiled.program, cfg, [None])
