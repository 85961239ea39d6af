"""HSGP: the approximation's prior covariance converges to the exact kernel, gradients against
finite differences, bad inputs, and a smooth trend recovered by sampling."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brr_bayes as bb
from helpers import assert_grad

KERNELS = {
    "expquad": lambda d, l: np.exp(-d ** 2 / (2 * l ** 2)),
    "matern32": lambda d, l: (1 + np.sqrt(3) * d / l) * np.exp(-np.sqrt(3) * d / l),
    "matern52": lambda d, l: (1 + np.sqrt(5) * d / l + 5 * d ** 2 / (3 * l ** 2)) * np.exp(-np.sqrt(5) * d / l),
}


def _covariance(x, cov, ls, eta, m, c):
    """Cov(f) of the compiled model: f is linear in its coefficients z ~ N(0, I), so Cov = J J^T."""
    with bb.Model() as model:
        bb.Deterministic("f", bb.HSGP("f", x, ls=ls, eta=eta, m=m, c=c, cov=cov))
    J = model.compiled.constrain_many(np.eye(model.dim))["f"].T
    return J @ J.T


@pytest.mark.parametrize("cov", sorted(KERNELS))
def test_prior_covariance_converges_to_the_kernel(cov):
    x = np.linspace(0, 10, 40)
    exact = 1.3 ** 2 * KERNELS[cov](np.abs(x[:, None] - x[None, :]), 2.0)
    wide = _covariance(x, cov, 2.0, 1.3, 150, 3.0)
    assert np.abs(wide - exact).max() < 1e-3 * 1.3 ** 2
    usual = _covariance(x, cov, 2.0, 1.3, 60, 1.5)        # the usual c: good inside, rougher at the ends
    assert np.abs(usual - exact)[10:30, 10:30].max() < 5e-3 * 1.3 ** 2
    phi, w = bb.gp.hsgp_basis(x, 60, 1.5)
    assert phi.shape == (40, 60) and np.all(np.diff(w) > 0)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(sorted(KERNELS)), st.floats(-1, 1), st.floats(-1, 1))
def test_gradient_in_lengthscale_amplitude_and_coefficients(cov, log_ls, log_eta):
    x = np.repeat(np.linspace(0, 5, 12), 2)
    with bb.Model() as m:
        ls = bb.LogNormal("ls", 0, 1)
        eta = bb.HalfNormal("eta", 1)
        f = bb.HSGP("f", x, ls=ls, eta=eta, m=8, cov=cov)
        bb.Normal("y", f, 0.5, observed=np.sin(x))
    z = np.random.default_rng(0).normal(size=8)
    assert_grad(m, np.concatenate([[log_ls, log_eta], z]), rtol=1e-6, h=1e-5)


def test_bad_inputs():
    x = np.linspace(0, 1, 5)
    with bb.Model():
        with pytest.raises(ValueError, match="cov='rbf' is not known"):
            bb.HSGP("f", x, ls=1.0, eta=1.0, cov="rbf")
        with pytest.raises(ValueError, match="m .* must be a positive integer"):
            bb.HSGP("f", x, ls=1.0, eta=1.0, m=0)
        with pytest.raises(ValueError, match="c .* must be a number > 1"):
            bb.HSGP("f", x, ls=1.0, eta=1.0, c=1.0)
        with pytest.raises(ValueError, match="x must be a non-empty 1-d array of finite numbers"):
            bb.HSGP("f", np.array([0.0, np.nan]), ls=1.0, eta=1.0)
        with pytest.raises(ValueError, match="ls must be a positive number"):
            bb.HSGP("f", x, ls=-1.0, eta=1.0)
        with pytest.raises(ValueError, match="eta must be a scalar"):
            bb.HSGP("f", x, ls=1.0, eta=bb.HalfNormal("e", 1, shape=2))


def test_a_smooth_trend_is_recovered():
    rng = np.random.default_rng(3)
    day = np.repeat(np.arange(0.0, 60.0), 4)                  # 4 polls a day
    truth = 0.5 * np.sin(day / 8.0)
    y = truth + rng.normal(0, 0.2, day.size)
    with bb.Model() as m:
        ls = bb.InverseGamma("ls", 5, 50)
        eta = bb.HalfNormal("eta", 1)
        trend = bb.Deterministic("trend", bb.HSGP("trend", day, ls=ls, eta=eta, m=25))
        bb.Normal("y", trend, bb.HalfNormal("sigma", 1), observed=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=300, tune=300, chains=2, seed=4, progressbar=False)
    est = res.posterior["trend"].mean(axis=(0, 1))
    assert np.sqrt(np.mean((est - truth) ** 2)) < 0.06
    assert abs(float(res.posterior["sigma"].mean()) - 0.2) < 0.03


@pytest.mark.parametrize("cov", sorted(KERNELS))
def test_exact_covariance_and_a_gp_marginal_likelihood(cov):
    from scipy import stats
    x = np.linspace(0, 3, 7)
    y = np.sin(x)
    with bb.Model() as m:
        ls = bb.LogNormal("ls", 0, 1)
        eta = bb.HalfNormal("eta", 1)
        K = bb.gp.cov_matrix(x, ls=ls, eta=eta, cov=cov, jitter=0.1)      # jitter as the noise variance
        Z = bb.math.solve_lower_triangular(bb.math.cholesky(K), y)
        bb.Potential("y", -0.5 * (Z * Z).sum() - 0.5 * bb.math.logdet_spd(K))
        bb.Deterministic("K", K)
    point = np.array([np.log(0.8), np.log(1.2)])
    Kn = 1.2 ** 2 * KERNELS[cov](np.abs(x[:, None] - x[None, :]), 0.8) + 0.1 * np.eye(7)
    np.testing.assert_allclose(m.constrain(point)["K"], Kn, rtol=1e-12)
    prior = stats.lognorm.logpdf(0.8, 1.0) + np.log(0.8) + stats.halfnorm.logpdf(1.2) + np.log(1.2)
    want = stats.multivariate_normal.logpdf(y, np.zeros(7), Kn) + 3.5 * np.log(2 * np.pi) + prior
    assert abs(m.logp(point) - want) < 1e-9 * max(1, abs(want))
    assert_grad(m, point)
    with pytest.raises(ValueError, match="cov='rbf' is not known"):
        bb.gp.cov_matrix(x, ls=1.0, eta=1.0, cov="rbf")
