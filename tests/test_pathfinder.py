"""bb.pathfinder and init="pathfinder": a correlated normal recovered (mean, covariance, ELBO ~ log Z),
the factored covariance equal to the dense L-BFGS inverse Hessian, a stalled line search restarted, reproducibility, a minor mode
out-weighed by importance resampling, the multimodality warning, and bad arguments named."""
import hashlib
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes.infer import pathfinding
from workloads import data, models


def correlated_normal(seed=0, d=6):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    C = A @ A.T + np.eye(d)
    mu = rng.normal(size=d)
    with bb.Model() as m:
        bb.MvNormal("x", mu, cov=C)
    return m, mu, C


def test_recovers_a_correlated_normal():
    m, mu, C = correlated_normal()
    fit = bb.pathfinder(m, seed=1, draws=6000)
    X = fit.draws["x"]
    sd = np.sqrt(np.diag(C))
    assert np.all(np.abs(X.mean(0) - mu) < 0.1 * sd)
    np.testing.assert_allclose(np.cov(X.T), C, atol=0.08 * np.abs(C).max())
    # the target is normalised: ELBO <= log Z = 0, and close to it for a (nearly) exact approximation
    assert all(-0.5 < e < 0.3 for e in fit.elbo), fit.elbo
    assert np.isfinite(fit.pareto_k) and fit.pareto_k < 1.0   # importance weights usable


@pytest.mark.parametrize("algebra", ["_FAST", "_PORTABLE"])
def test_factored_covariance_is_the_lbfgs_inverse_hessian(algebra):
    # diag(alpha) + beta gamma beta^T equals the BFGS recursion applied to diag(alpha) with the same pairs,
    # with BLAS (scoring the iterates) and without (the chosen iterate's draws) alike
    la = getattr(pathfinding, algebra)
    rng = np.random.default_rng(4)
    d, J = 7, 4
    alpha = rng.uniform(0.5, 2.0, d)
    H = rng.normal(size=(d, d))
    H = H @ H.T + np.eye(d)
    pairs = []
    for _ in range(J):
        s = rng.normal(size=d)
        pairs.append((s, H @ s))   # gradient changes of a quadratic with Hessian H
    mean, a, beta, gamma = pathfinding._normal_approximation(np.zeros(d), np.zeros(d), alpha, pairs, la)
    B = np.diag(alpha)
    for s, z in pairs:
        rho = 1.0 / (z @ s)
        V = np.eye(d) - rho * np.outer(z, s)
        B = V.T @ B @ V + rho * np.outer(s, s)
    np.testing.assert_allclose(np.diag(a) + beta @ gamma @ beta.T, B, rtol=1e-9, atol=1e-10)
    phi, lq = pathfinding._draw((mean, a, beta, gamma), np.random.default_rng(0), 20000, la)
    np.testing.assert_allclose(np.cov(phi.T), B, atol=0.05 * np.abs(B).max())
    from scipy import stats
    np.testing.assert_allclose(lq[:5], stats.multivariate_normal(mean, B).logpdf(phi[:5]), rtol=1e-9)


def test_reproducible():
    m, _, _ = correlated_normal(seed=2, d=3)
    a, b = bb.pathfinder(m, seed=5, draws=50), bb.pathfinder(m, seed=5, draws=50)
    np.testing.assert_array_equal(a.unconstrained, b.unconstrained)
    assert not np.array_equal(a.unconstrained, bb.pathfinder(m, seed=6, draws=50).unconstrained)


def test_minor_mode_loses_its_weight_and_the_spread_is_reported():
    # 99.9% of the mass near +6, a sliver near -6: paths that end in the sliver are out-weighed
    with bb.Model() as m:
        x = bb.Flat("x")
        bb.Potential("mix", bb.math.logaddexp(np.log(0.999) + bb.Normal.logp(x, 6.0, 1.0),
                                              np.log(0.001) + bb.Normal.logp(x, -6.0, 1.0)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = bb.pathfinder(m, seed=3, paths=8, draws=2000)
    starts = np.array(fit.initial_points(8, seed=1))
    assert np.all(starts > 0), starts.ravel()
    assert (fit.draws["x"] > 0).mean() > 0.99
    if min(fit.elbo) < max(fit.elbo) - 10:   # a path stopped in the sliver: said so
        assert any("different mode" in str(w.message) for w in caught)


def test_a_stalled_line_search_is_restarted():
    # BYM2 (W3): the first L-BFGS steps overshoot sigma towards 0, where every gradient fades, and
    # L-BFGS-B's line search stalled on the way back (log p -10,576, |grad| 2,430; ELBO -11,992, draws
    # at log p about -12,800, while the posterior's bulk is at about -4,500). Restarted, it goes on.
    from workloads import data, models
    m = models.bym2(data.make_w3())
    fit = bb.pathfinder(m, paths=1, draws=20, seed=2)
    assert fit.elbo[0] > -9000, fit.elbo
    lp = np.array([m.compiled.logp(x) for x in fit.unconstrained])
    assert np.median(lp) > -9000, np.median(lp)


def test_init_pathfinder_starts_chains_in_the_bulk():
    m, mu, C = correlated_normal(seed=3, d=4)
    kw = dict(draws=50, tune=50, chains=2, seed=9, progressbar=False, init="pathfinder")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = bb.sample(m, **kw), bb.sample(m, **kw)
    np.testing.assert_array_equal(a.unconstrained, b.unconstrained)


def test_bad_arguments():
    m, _, _ = correlated_normal(d=2)
    with pytest.raises(ValueError, match="paths must be an integer >= 1"):
        bb.pathfinder(m, paths=0)
    with pytest.raises(ValueError, match="draws must be an integer >= 1"):
        bb.pathfinder(m, draws=1.5)
    with pytest.raises(TypeError, match="pass a bb.Model"):
        bb.pathfinder(object())
    with pytest.raises(ValueError, match="or 'pathfinder'"):
        bb.sample(m, init="advi", progressbar=False)


def _three_points():
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 10)
        bb.Normal("y", mu, 1, observed=np.array([2.1, 1.9, 2.3]))
    return m


def test_an_exact_approximation_gives_equal_weights_not_nan():
    # a normal posterior: the approximation is exact, log p - log q is one constant up to rounding, and
    # arviz's tail fit of equal weights returned NaN ("Probabilities contain NaN" on AVX-512 BLAS kernels)
    fit = bb.pathfinder(_three_points(), seed=1, paths=2)
    assert np.all(np.isfinite(fit.log_weights))
    assert fit.pareto_k == -np.inf
    assert abs(fit.draws["mu"].mean() - 2.1) < 0.3
    assert len({tuple(p) for p in fit.initial_points(4, seed=1)}) == 4


def test_resampling_probabilities_come_from_log_space():
    # exp(800) overflows: normalised naively these were inf / inf = NaN
    p = pathfinding._probabilities(np.array([-1e308, 800.0, np.nan, -np.inf, 800.0 - np.log(3.0)]))
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p, [0.0, 0.75, 0.0, 0.0, 0.25])
    with pytest.raises(RuntimeError, match="every path failed .*path 0: the log density or its gradient is not finite"):
        with bb.Model() as m:
            x = bb.Normal("x", 0, 1)
            bb.Potential("broken", bb.math.log(-bb.math.exp(x)))   # log of a negative number: NaN everywhere
        bb.pathfinder(m, seed=0, paths=2)


def test_paths_score_on_one_blas_thread_and_leave_the_setting_as_it_was(monkeypatch):
    # small matrices: one BLAS thread is faster (W4 13.0 s -> 10.8 s) and numpy's and scipy's pools do not
    # spin against each other; the caller's settings are back afterwards
    from threadpoolctl import threadpool_info
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    seen = []
    real = pathfinding._one_path

    def spy(*a, **k):
        seen.append([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
        return real(*a, **k)
    monkeypatch.setattr(pathfinding, "_one_path", spy)
    bb.pathfinder(_three_points(), seed=1, paths=2)
    assert seen and all(all(n == 1 for n in s) for s in seen)
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_draws_do_not_depend_on_blas_or_numpy_kernels():
    # L-BFGS and the factored normal use no BLAS: a process running other OpenBLAS and numpy kernels (as
    # another machine does) finds the same draws, bit for bit; before, AVX-512 BLAS kernels gave other
    # draws (and NaN). Only the log weights may move in their last bit there (numpy's SIMD exp and log in
    # the Pareto smoothing), which changes a resampled pick only where a uniform falls within 1e-16 of a
    # boundary.
    import other_machine
    env, what = other_machine.other_kernels()
    if env is None:
        pytest.skip(what)
    run = "bb.pathfinder(models.radon(data.make_w5()), seed=3, paths=2, draws=200)"
    code = ("import hashlib, warnings, brr_bayes as bb\n"
            "from workloads import data, models\n"
            "warnings.simplefilter('ignore')\n"
            f"fit = {run}\n"
            "print(json.dumps(hashlib.sha256(fit.pooled.tobytes() + fit.unconstrained.tobytes()).hexdigest()))")
    theirs, blas = other_machine.run_elsewhere(code, env)
    assert blas == env["OPENBLAS_CORETYPE"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bb.pathfinder(models.radon(data.make_w5()), seed=3, paths=2, draws=200)   # `run`, here
    assert theirs == hashlib.sha256(fit.pooled.tobytes() + fit.unconstrained.tobytes()).hexdigest(), what
