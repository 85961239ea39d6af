"""Cholesky, triangular solve and log-determinant of parameter matrices: values against numpy/scipy,
gradients against finite differences (hypothesis sizes), rejection of non-positive-definite points,
bad shapes, and an exact posterior by quadrature."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import linalg as sla

import brr_bayes as bb
from helpers import assert_grad, rel_close


@settings(max_examples=30, deadline=None)
@given(K=st.integers(1, 5), m=st.integers(0, 3), seed=st.integers(0, 2**31))
def test_cholesky_and_solve_with_gradients(K, m, seed):
    rng = np.random.default_rng(seed)
    rhs = rng.normal(size=(K,) if m == 0 else (K, m))
    with bb.Model() as model:
        W = bb.Flat("W", shape=(K, K))
        A = W @ W.T + np.eye(K)
        L = bb.Deterministic("L", bb.math.cholesky(A))
        x = bb.Deterministic("x", bb.math.solve_lower_triangular(L, rhs))
        bb.Potential("p", bb.math.tanh(L).sum() + bb.math.tanh(x).sum() + bb.math.logdet_spd(A))
    w = rng.normal(size=K * K)
    An = w.reshape(K, K) @ w.reshape(K, K).T + np.eye(K)
    Ln = np.linalg.cholesky(An)
    xn = sla.solve_triangular(Ln, rhs, lower=True)
    got = model.constrain(w)
    np.testing.assert_allclose(got["L"], Ln, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["x"], xn, rtol=1e-10, atol=1e-12)
    want = np.tanh(Ln).sum() + np.tanh(xn).sum() + np.linalg.slogdet(An)[1]
    assert rel_close(model.logp(w), float(want), 1e-10)
    assert_grad(model, w, rtol=1e-6, h=1e-5)


def test_not_positive_definite_is_a_rejection_not_a_crash():
    with bb.Model() as m:
        r = bb.Flat("r")
        bb.Potential("p", bb.math.logdet_spd(np.eye(2) + r * np.array([[0.0, 1.0], [1.0, 0.0]])))
    assert np.isfinite(m.logp(np.array([0.5])))
    assert np.isnan(m.logp(np.array([1.5])))          # |r| > 1: not positive definite
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=50, tune=50, chains=1, seed=1, init={"r": 0.0}, progressbar=False)
    assert np.all(np.abs(res.posterior["r"]) < 1)       # the sampler never accepts such a point
    with bb.Model():
        with pytest.raises(ValueError, match="needs a square"):
            bb.math.cholesky(np.zeros((2, 3)) + bb.Flat("q", shape=(2, 3)))


def test_bad_shapes_and_data():
    with bb.Model():
        q = bb.Flat("q", shape=(3, 3))
        with pytest.raises(ValueError, match="L must be \\(K, K\\) and b \\(K,\\) or \\(K, m\\)"):
            bb.math.solve_lower_triangular(q, np.ones(2))
        with pytest.raises(ValueError, match="the data matrix is not positive definite"):
            bb.math.cholesky(-np.eye(2))


def test_correlation_posterior_by_quadrature():
    # y_i ~ MvNormal(0, [[1, r], [r, 1]]), r ~ Uniform(-1, 1): r's posterior on a grid
    rng = np.random.default_rng(2)
    y = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=40)
    S = y.T @ y
    with bb.Model() as m:
        r = bb.Uniform("r", -1, 1)
        Sigma = np.eye(2) + r * np.array([[0.0, 1.0], [1.0, 0.0]])
        L = bb.math.cholesky(Sigma)
        Z = bb.math.solve_lower_triangular(L, y.T)                    # L^{-1} y_i, column by column
        bb.Potential("y", -0.5 * (Z * Z).sum() - 0.5 * len(y) * bb.math.logdet_spd(Sigma))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=1000, tune=500, chains=2, seed=3, progressbar=False)
    grid = np.linspace(-0.999, 0.999, 4001)
    det = 1 - grid ** 2
    quad = -0.5 * (S[0, 0] + S[1, 1] - 2 * grid * S[0, 1]) / det - 0.5 * len(y) * np.log(det)
    w = np.exp(quad - quad.max())
    w /= w.sum()
    mean, sd = float((w * grid).sum()), float(np.sqrt((w * grid ** 2).sum() - (w * grid).sum() ** 2))
    draws = res.posterior["r"].ravel()
    assert abs(draws.mean() - mean) < 5 * sd / np.sqrt(400)
    assert abs(draws.std() / sd - 1) < 0.15
