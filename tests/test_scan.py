"""bb.math.scan: values against a numpy loop, gradients against finite differences (hypothesis
shapes and steps), captured parameters, inputs that are parameters, predictive draws, bad inputs,
one op whatever the length, and a nonlinear state-space model recovered by sampling."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brr_bayes as bb
from brr_bayes import ops
from helpers import assert_grad


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 15), n=st.integers(1, 3), k=st.integers(0, 2), seed=st.integers(0, 2**31))
def test_values_and_gradients(T, n, k, seed):
    rng = np.random.default_rng(seed)
    with bb.Model() as m:
        x0 = bb.Flat("x0", shape=n)
        w = bb.Flat("w", shape=n)
        u = bb.Flat("u", shape=(T, max(k, 1)))
        if k:
            step = lambda xp, ut: bb.math.tanh(w * xp + ut.sum()) + 0.1 * xp ** 2  # noqa: E731
            x = bb.math.scan(step, x0, u)
        else:
            x = bb.math.scan(lambda xp: bb.math.tanh(w * xp) + 0.1 * xp ** 2, x0, length=T)
        bb.Deterministic("x", x)
        bb.Potential("p", bb.math.tanh(x).sum())
    p = rng.normal(0, 0.7, size=m.dim)
    X0, W, U = p[:n], p[n:2 * n], p[2 * n:].reshape(T, max(k, 1))
    want, prev = np.empty((T, n)), X0
    for t in range(T):
        prev = np.tanh(W * prev + (U[t].sum() if k else 0.0)) + 0.1 * prev ** 2
        want[t] = prev
    np.testing.assert_allclose(m.constrain(p)["x"], want, rtol=1e-12, atol=1e-14)
    assert_grad(m, p)


def test_one_op_whatever_the_length_and_the_step_compiled_once():
    with bb.Model() as m:
        r = bb.Normal("r", 0.5, 0.1)
        K = bb.HalfNormal("K", 100)
        x = bb.math.scan(lambda xp: xp + r * xp * (1 - xp / K), 5.0, length=5000)   # logistic growth
        bb.Potential("p", -((x[-1] - 80.0) ** 2))
    prog = m.compiled.program
    assert prog.op_codes().count(ops.SCAN) == 1 and prog.num_functions() == 1
    assert np.isfinite(m.logp(np.zeros(m.dim)))


def test_scalar_state_and_predictive_twin():
    e = np.array([0.1, -0.3, 0.2, 0.05])
    with bb.Model() as m:
        omega = bb.HalfNormal("omega", 1)
        beta = bb.Uniform("beta", 0, 1)
        s = bb.Deterministic("s", bb.math.scan(lambda sp, et: omega + 0.2 * et ** 2 + beta * sp, 0.1, e))
    x = np.array([np.log(0.5), 0.3])
    from brr_bayes.compile.evaluate import evaluate_at
    from brr_bayes.compile.lower import evaluate_in_core
    rvs = {rv.name: rv for rv in m.free_rvs}
    vals = m.constrain(x)
    got = evaluate_at([s], {rvs["omega"]: vals["omega"], rvs["beta"]: vals["beta"]}, evaluate_in_core)[0]
    np.testing.assert_array_equal(got, vals["s"])
    assert s.shape == (4,)


def test_bad_inputs_are_named():
    with bb.Model():
        a = bb.Flat("a")
        with pytest.raises(ValueError, match="pass length="):
            bb.math.scan(lambda xp: a * xp, 1.0)
        with pytest.raises(ValueError, match="x0 must be a scalar or a vector"):
            bb.math.scan(lambda xp: a * xp, np.ones((2, 2)), length=3)
        with pytest.raises(ValueError, match="length=4 but inputs have 3 steps"):
            bb.math.scan(lambda xp, u: a * xp + u, 1.0, np.ones(3), length=4)
        with pytest.raises(ValueError, match=r"returned shape \(2,\), expected \(\)"):
            bb.math.scan(lambda xp: bb.math.stack([xp, xp]), 1.0, length=3)
        with pytest.raises(TypeError, match="calling the function on its arguments"):
            bb.math.scan(lambda xp, u, extra: xp, 1.0, np.ones(3))
        with pytest.raises(ValueError, match="nested traced functions are not supported"):
            bb.math.scan(lambda xp: bb.math.scan(lambda y: y * xp, 1.0, length=2)[-1], 1.0, length=3)


def test_nonlinear_state_space_recovered():
    # a logistic growth curve observed with noise: x[t] = x[t-1] + r x[t-1] (1 - x[t-1] / K)
    rng = np.random.default_rng(2)
    r_true, K_true, T = 0.3, 50.0, 40
    x, xs = 2.0, []
    for _ in range(T):
        x = x + r_true * x * (1 - x / K_true)
        xs.append(x)
    y = np.array(xs) + rng.normal(0, 1.0, T)
    with bb.Model() as m:
        r = bb.HalfNormal("r", 1)
        K = bb.HalfNormal("K", 100)
        sigma = bb.HalfNormal("sigma", 5)
        path = bb.math.scan(lambda xp: xp + r * xp * (1 - xp / K), 2.0, length=T)
        bb.Normal("y", path, sigma, observed=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=400, tune=400, chains=2, seed=3, progressbar=False)
    for name, truth in (("r", r_true), ("K", K_true), ("sigma", 1.0)):
        d = res.posterior[name].ravel()
        assert abs(d.mean() - truth) < 4 * d.std(), (name, d.mean(), d.std(), truth)
    assert res.summary()["r_hat"].max() < 1.05


def test_random_walk_posterior_equals_the_exact_gaussian_one():
    # x = cumulative sum of u (a scan over parameter inputs), u ~ N(0, 1), y ~ N(x, 1): the posterior of
    # u is N((I + A'A)^-1 A'y, (I + A'A)^-1) with A the lower-triangular ones
    T = 12
    rng = np.random.default_rng(8)
    y = np.cumsum(rng.normal(size=T)) + rng.normal(size=T)
    A = np.tril(np.ones((T, T)))
    cov = np.linalg.inv(np.eye(T) + A.T @ A)
    mean = cov @ A.T @ y
    with bb.Model() as m:
        u = bb.Normal("u", 0, 1, shape=T)
        x = bb.math.scan(lambda xp, ut: xp + ut, 0.0, u)
        bb.Normal("y", x, 1.0, observed=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=1000, tune=500, chains=4, seed=4, progressbar=False)
    d = res.posterior["u"].reshape(-1, T)
    ess = bb.convergence.ess_bulk(res.posterior["u"])
    z = (d.mean(0) - mean) / np.sqrt(np.diag(cov) / ess)
    assert np.abs(z).max() < 4.5, z
    np.testing.assert_allclose(d.std(0), np.sqrt(np.diag(cov)), rtol=0.1)
