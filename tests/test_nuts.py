"""NUTS: recovery of known Gaussians, reproducibility across thread counts, exact resume, Ctrl-C."""
import _thread
import threading
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend

SCALES = np.array([0.01, 0.5, 1.0, 3.0, 100.0])


def gaussian(x):
    z = x / SCALES
    return -0.5 * float(z @ z), -z / SCALES


def z_scores(draws, mean, sd):
    """Mean and sd errors in units of their Monte Carlo standard errors (ESS from arviz)."""
    import arviz as az
    ess = np.array([az.ess(draws[..., i]) for i in range(draws.shape[-1])])
    m = draws.mean(axis=(0, 1))
    s = draws.std(axis=(0, 1))
    return (m - mean) / (sd / np.sqrt(ess)), (s / sd - 1) / np.sqrt(0.5 / ess)


@pytest.mark.parametrize("metric,adapt", [("diag", "stan"), ("diag", "fisher"), ("diag", "nutpie"),
                                          ("dense", "stan"), ("low_rank", "fisher")])
def test_recovers_badly_scaled_gaussian(metric, adapt):
    res = bb.sample_logp(gaussian, 5, draws=1000, tune=1000, chains=4, seed=11, metric=metric, adapt=adapt)
    zm, zs = z_scores(res.posterior["x"], 0.0, SCALES)
    assert np.all(np.abs(zm) < 5) and np.all(np.abs(zs) < 5), (zm, zs)
    st = res.sample_stats
    assert not st["diverging"].any()
    # well adapted: the metric absorbs the 1e4 scale range, so trajectories stay short
    assert st["tree_depth"].mean() < 4, st["tree_depth"].mean()
    assert 0.6 < st["acceptance_rate"].mean() < 0.97


def test_dense_metric_handles_strong_correlation():
    C = np.array([[1.0, 0.995], [0.995, 1.0]]) * np.array([[1.0, 10.0], [10.0, 100.0]])
    P = np.linalg.inv(C)

    def f(x):
        return -0.5 * float(x @ P @ x), -(P @ x)
    dense = bb.sample_logp(f, 2, draws=1000, tune=1000, chains=4, seed=5, metric="dense")
    diag = bb.sample_logp(f, 2, draws=1000, tune=1000, chains=4, seed=5, metric="diag")
    x = dense.posterior["x"].reshape(-1, 2)
    np.testing.assert_allclose(np.cov(x.T), C, rtol=0.15)
    assert dense.sample_stats["n_steps"].mean() < diag.sample_stats["n_steps"].mean() / 3


def _correlated_gaussian(d=40, seed=0):
    """A Gaussian with badly scaled coordinates and three directions far from the rest (variance x100, x30, x0.01)."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(d, d)))
    ev = np.ones(d)
    ev[:3] = [100.0, 30.0, 0.01]
    scales = np.exp(rng.normal(size=d))
    C = (U * ev) @ U.T * np.outer(scales, scales)
    P = np.linalg.inv(C)
    return C, (lambda x: (-0.5 * float(x @ P @ x), -(P @ x)))


def _inverse_metric(state):
    """M^{-1} = S (I + U (diag(vals) - 1) U^T) S from a low-rank chain state."""
    s = np.sqrt(np.asarray(state["inv_metric"]))
    vals = np.asarray(state["low_rank"]["vals"])
    U = np.asarray(state["low_rank"]["vecs"]).reshape(len(vals), -1).T
    return s[:, None] * (np.eye(len(s)) + (U * (vals - 1)) @ U.T) * s[None, :]


def test_low_rank_metric_learns_the_correlated_directions():
    C, f = _correlated_gaussian()
    d = C.shape[0]
    kw = dict(draws=500, tune=1000, chains=2, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = bb.sample_logp(f, d, metric="low_rank", **kw)
        diag = bb.sample_logp(f, d, metric="diag", adapt="fisher", **kw)
    # in the adapted metric the posterior is nearly white: eigenvalues of M C (M = the mass matrix)
    # span [1/4, 4]; with the diagonal alone the three odd directions stay ~100x apart
    for state in lr.sampler_states:
        Minv = _inverse_metric(state)
        assert 1 <= len(state["low_rank"]["vals"]) <= 16
        w = np.linalg.eigvals(np.linalg.solve(Minv, C)).real
        assert w.max() / w.min() < 16, (w.min(), w.max())
    Md = np.diag(np.asarray(diag.sampler_states[0]["inv_metric"]))
    wd = np.linalg.eigvals(np.linalg.solve(Md, C)).real
    assert wd.max() / wd.min() > 1000
    assert lr.sample_stats["n_steps"].mean() < diag.sample_stats["n_steps"].mean() / 3
    x = lr.posterior["x"].reshape(-1, d)
    np.testing.assert_allclose(x.var(axis=0), np.diag(C), rtol=0.35)


@pytest.mark.parametrize("adapt", ["stan", "nutpie"])
def test_low_rank_metric_needs_fisher_windows(adapt):
    with pytest.raises(ValueError, match="adapt='fisher'"):
        bb.sample_logp(lambda x: (-0.5 * float(x @ x), -x), 2, draws=5, tune=5, chains=1, metric="low_rank",
                       adapt=adapt)


def _model():
    y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
    s = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", 5)
        z = bb.Normal("z", 0, 1, shape=8)
        bb.Normal("y", mu + tau * z, s, observed=y)
    return m


def test_same_seed_same_draws_whatever_the_cores():
    m = _model()
    kw = dict(draws=150, tune=150, chains=3, seed=42, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = bb.sample(m, cores=1, **kw)
        b = bb.sample(m, cores=2, **kw)
        c = bb.sample(m, cores=3, **kw)
        d = bb.sample(m, cores=2, **dict(kw, seed=43))
    np.testing.assert_array_equal(a.unconstrained, b.unconstrained)
    np.testing.assert_array_equal(a.unconstrained, c.unconstrained)
    for k in a.sample_stats:
        np.testing.assert_array_equal(a.sample_stats[k], b.sample_stats[k])
    assert not np.array_equal(a.unconstrained, d.unconstrained)
    assert not np.array_equal(a.unconstrained[0], a.unconstrained[1])  # chains use distinct streams


@pytest.mark.parametrize("adapt,metric", [("stan", "diag"), ("nutpie", "diag"), ("fisher", "low_rank")])
def test_resume_continues_exactly(adapt, metric):
    m = _model()
    kw = dict(chains=2, progressbar=False, adapt=adapt, metric=metric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = bb.sample(m, draws=200, tune=100, seed=7, **kw)
        first = bb.sample(m, draws=100, tune=100, seed=7, **kw)
        rest = bb.sample(m, draws=100, resume=first, **kw)   # draws: the draws to add
    np.testing.assert_array_equal(first.unconstrained, full.unconstrained[:, :100])
    np.testing.assert_array_equal(rest.unconstrained, full.unconstrained[:, 100:])
    assert rest.seed == first.seed


def test_warmup_kept_on_request_and_step_size_fixed_after_warmup():
    m = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bb.sample(m, draws=100, tune=300, chains=2, seed=1, keep_warmup=True, progressbar=False)
    assert r.warmup_posterior["mu"].shape == (2, 300)
    assert r.warmup_sample_stats["step_size"].shape == (2, 300)
    step = r.sample_stats["step_size"]
    assert np.all(step == step[:, :1])                    # fixed once warm-up ends
    assert len(np.unique(r.warmup_sample_stats["step_size"][0])) > 10  # adapted during warm-up


def test_user_init_is_used_and_validated():
    m = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bb.sample(m, draws=1, tune=0, chains=1, seed=1, init={"mu": 3.0, "tau": 2.0}, progressbar=False)
    assert r.posterior["mu"].shape == (1, 1)
    with pytest.raises(ValueError, match="init for 'tau': values must be > 0"):
        bb.sample(m, init={"tau": -1.0}, progressbar=False)


def test_ctrl_c_keeps_the_draws_so_far():
    import signal

    def slow(x):
        import time
        time.sleep(0.0005)
        return -0.5 * float(x @ x), -x
    # A process started in the background inherits SIGINT as ignored, and then interrupt_main does
    # nothing: install Python's handler so the simulated Ctrl-C arrives in any environment.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    try:
        timer.start()
        with pytest.warns(RuntimeWarning, match="interrupted"):
            res = bb.sample_logp(slow, 3, draws=20000, tune=10, chains=2, seed=1)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert res.partial
    assert 0 < res.draws < 20000 and res.draws == max(res.chain_draws)
    for c, n in enumerate(res.chain_draws):   # every chain's draws kept; shorter chains padded with NaN
        assert np.all(np.isfinite(res.posterior["x"][c, :n])) and np.all(np.isnan(res.posterior["x"][c, n:]))


def test_nonfinite_start_is_retried_and_improper_regions_reported():
    def half_plane(x):  # log density finite only for x0 > 1.5: most uniform(-2, 2) starts fail
        if x[0] <= 1.5:
            return -np.inf, np.zeros(2)
        return -0.5 * float(x @ x) + np.log(x[0] - 1.5), np.array([-x[0] + 1 / (x[0] - 1.5), -x[1]])
    res = bb.sample_logp(half_plane, 2, draws=50, tune=50, chains=2, seed=3)
    assert np.all(res.posterior["x"][..., 0] > 1.5)

    def nowhere(x):
        return -np.inf, np.zeros(1)
    with pytest.raises(RuntimeError, match="could not find a starting point"):
        bb.sample_logp(nowhere, 1, draws=10, tune=10, chains=1, seed=1)


def test_an_engine_error_is_an_error_not_a_divergence():
    # a Python exception is the density saying "outside the support" (a rejection, as in Stan); a
    # C++ exception (here: a logp that is not a number) is a bug and stops the chain with its message
    calls = []

    def rejects_sometimes(x):
        calls.append(1)
        if len(calls) % 7 == 3:
            raise ValueError("outside the support")
        return -0.5 * float(x @ x), -x
    res = bb.sample_logp(rejects_sometimes, 2, draws=50, tune=50, chains=1, seed=2)
    assert res.sample_stats["diverging"].sum() > 0
    with pytest.raises(RuntimeError, match=r"chain 0: the log density failed \(not a divergence: an error\).*cast"):
        bb.sample_logp(lambda x: ("a string", -x), 2, draws=10, tune=10, chains=1, seed=1)


def test_one_dimensional_model():
    with bb.Model() as m:
        bb.Normal("x", 1.0, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bb.sample(m, draws=1000, tune=500, chains=2, seed=0, progressbar=False)
    assert r.unconstrained.shape == (2, 1000, 1)
    assert abs(r.posterior["x"].mean() - 1.0) < 0.3 and abs(r.posterior["x"].std() - 2.0) < 0.3


def test_nutpie_schedule_state():
    """The schedule's own state travels with the chain: windows grew past 80 draws after the early phase,
    the first metric change re-initialised the step size, and both estimators saw only moving draws."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bb.sample_logp(gaussian, 5, draws=10, tune=1000, chains=1, seed=3, adapt="nutpie")
    st = r.sampler_states[0]
    np_ = st["nutpie"]
    assert (np_["num_warmup"], np_["early_end"], np_["final_start"], np_["early_switch"]) == (1000, 300, 850, 10)
    assert np_["window"] > 80 and np_["metric_changed"] is True and np_["growth"] == 1.5
    assert 3 <= st["estimator"]["n"] <= 1000 and st["background"]["use_grad"] is True
    inv = np.asarray(st["inv_metric"])
    np.testing.assert_allclose(inv, SCALES ** 2, rtol=0.5)   # Fisher diagonal = the variances here


def test_momentum_normals_are_standard_normal():
    """The momentum generator (Box-Muller over arrays, both values of each pair): standard normal by a
    KS test, independent within and across pairs, and the first k of n draws are the k-draw result
    (the vectorised log/cos/sin give an element the same value wherever it sits)."""
    from scipy import stats
    core = _backend.core()
    z = core.momentum_normals(11, 0, 200_001)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)
    assert abs(stats.kurtosis(z)) < 0.05
    pairs = z[:-1].reshape(-1, 2)  # a pair's cosine and sine values, and neighbouring pairs
    for a, b in ((pairs[:, 0], pairs[:, 1]), (pairs[:-1, 1], pairs[1:, 0]), (pairs[:, 0] ** 2, pairs[:, 1] ** 2)):
        assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(a.size)
    for k in (1, 2, 3, 127, 128, 129, 130):
        np.testing.assert_array_equal(core.momentum_normals(11, 0, k), z[:k])
    assert not np.array_equal(core.momentum_normals(11, 1, 8), z[:8])  # chains have their own streams
    with pytest.raises(ValueError, match="n must be"):
        core.momentum_normals(11, 0, -1)
