"""bb.math.linear_recurrence: against scipy.signal.lfilter and a numpy loop, gradients against finite
differences (hypothesis shapes), the numpy reading, bad shapes, and ARMA(1,1) recovered by sampling."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import signal

import brr_bayes as bb
from brr_bayes import ops
from helpers import assert_grad


def test_equals_lfilter_for_a_constant_coefficient():
    b = np.random.default_rng(0).normal(size=50)
    with bb.Model() as m:
        a = bb.Uniform("a", -1, 1)
        x = bb.Deterministic("x", bb.math.linear_recurrence(a, b))
    u = np.array([0.7])
    a_val = 2 / (1 + np.exp(-0.7)) - 1
    np.testing.assert_allclose(m.constrain(u)["x"], signal.lfilter([1.0], [1.0, -a_val], b), rtol=1e-12, atol=1e-14)
    assert m.compiled.program.op_codes().count(ops.LINEAR_RECURRENCE) == 1


@settings(max_examples=30, deadline=None)
@given(T=st.integers(1, 12), n=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_values_and_gradients(T, n, seed):
    rng = np.random.default_rng(seed)
    with bb.Model() as m:
        a = bb.Flat("a", shape=(T, n))
        b = bb.Flat("b", shape=(T, n))
        x0 = bb.Flat("x0", shape=n)
        x = bb.Deterministic("x", bb.math.linear_recurrence(0.5 * bb.math.tanh(a), b, x0))
        bb.Potential("p", bb.math.tanh(x).sum())
    p = rng.normal(size=m.dim)
    A, B, X0 = 0.5 * np.tanh(p[:T * n].reshape(T, n)), p[T * n:2 * T * n].reshape(T, n), p[2 * T * n:]
    want, prev = np.empty((T, n)), X0
    for t in range(T):
        prev = A[t] * prev + B[t]
        want[t] = prev
    np.testing.assert_allclose(m.constrain(p)["x"], want, rtol=1e-12, atol=1e-14)
    assert_grad(m, p)
    from brr_bayes.compile.evaluate import evaluate_at
    rvs = {rv.name: rv for rv in m.free_rvs}
    got = evaluate_at([x], {rvs["a"]: p[:T * n].reshape(T, n), rvs["b"]: B, rvs["x0"]: X0})[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_bad_shapes():
    with bb.Model():
        a = bb.Flat("a", shape=3)
        with pytest.raises(ValueError, match="b must have shape \\(T,\\) or \\(T, n\\)"):
            bb.math.linear_recurrence(a, np.zeros((2, 2, 2)))
        with pytest.raises(ValueError, match="do not broadcast"):
            bb.math.linear_recurrence(a, np.zeros(5))


def test_arma11_recovered():
    rng = np.random.default_rng(5)
    T, mu, phi, theta = 600, 0.5, 0.6, 0.3
    eps = rng.normal(0, 1, T)
    y = np.zeros(T)
    for t in range(T):
        y[t] = mu + (phi * (y[t - 1] - mu) if t else 0.0) + eps[t] + (theta * eps[t - 1] if t else 0.0)
    with bb.Model() as m:
        mu_ = bb.Normal("mu", 0, 2)
        phi_ = bb.Uniform("phi", -1, 1)
        theta_ = bb.Uniform("theta", -1, 1)
        sigma = bb.HalfNormal("sigma", 2)
        lag = np.concatenate([[0.0], y[:-1]])
        first = np.zeros(T)
        first[0] = 1.0
        pred = mu_ + phi_ * (lag - mu_) * (1 - first)
        e = bb.math.linear_recurrence(-theta_ * (1 - first), y - pred)     # e_t = y_t - pred_t - theta e_{t-1}
        bb.Potential("y", bb.Normal.logp(e, 0, sigma).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=400, tune=400, chains=2, seed=1, progressbar=False)
    for name, truth in (("mu", mu), ("phi", phi), ("theta", theta), ("sigma", 1.0)):
        d = res.posterior[name].ravel()
        assert abs(d.mean() - truth) < 4 * d.std(), (name, d.mean(), d.std())
