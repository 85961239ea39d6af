"""bb.HMM: the forward algorithm against enumeration of every state path, gradients against finite
differences, several sequences, bad inputs, and regimes recovered by sampling."""
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special, stats

import brr_bayes as bb
from helpers import assert_grad, rel_close


def _enumerate(pi, A, loge):
    """log sum over all K^T paths of pi[s0] prod A[s_{t-1}, s_t] prod e[t, s_t]."""
    T, K = loge.shape
    terms = [np.log(pi[p[0]]) + sum(np.log(A[p[t - 1], p[t]]) for t in range(1, T)) + sum(loge[t, p[t]] for t in range(T))
             for p in itertools.product(range(K), repeat=T)]
    return special.logsumexp(terms)


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 6), K=st.integers(2, 3), seed=st.integers(0, 2**31))
def test_forward_algorithm_equals_enumeration(T, K, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(2, T))                       # two sequences
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), size=K)
    mus = np.sort(rng.normal(size=K))
    with bb.Model() as m:
        mu = bb.Flat("mu", shape=K)
        lp = bb.HMM("y", np.log(pi), np.log(A), bb.Normal.logp(y[..., None], mu, 1.0))
        bb.Deterministic("lp", lp)
    want = [_enumerate(pi, A, stats.norm.logpdf(y[s][:, None], mus, 1.0)) for s in range(2)]
    assert rel_close(m.logp(mus), float(sum(want)), 1e-10)
    np.testing.assert_allclose(m.constrain(mus)["lp"], want, rtol=1e-10)
    assert_grad(m, mus)


def test_gradient_through_transition_parameters():
    y = np.array([0.1, -0.3, 2.2, 2.0, 1.7, -0.1, 0.2])
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5, shape=2, transform="ordered")
        stay = bb.Beta("stay", 8, 2)
        trans = bb.math.stack([bb.math.stack([stay, 1 - stay]), bb.math.stack([1 - stay, stay])])
        bb.HMM("y", np.log([0.5, 0.5]), bb.math.log(trans), bb.Normal.logp(y[:, None], mu, 0.5))
    assert_grad(m, np.array([0.1, 0.5, 0.3]))


def test_bad_inputs():
    e = np.zeros((5, 2))
    with bb.Model():
        with pytest.raises(ValueError, match="log_init must have shape \\(2,\\) and log_trans \\(2, 2\\)"):
            bb.HMM("y", np.log([1 / 3] * 3), np.log(np.full((2, 2), 0.5)), e)
        with pytest.raises(ValueError, match="log_trans must be log probabilities that sum to 1 along each row"):
            bb.HMM("y", np.log([0.5, 0.5]), np.log(np.array([[0.5, 0.6], [0.5, 0.5]])), e)
        with pytest.raises(ValueError, match="log_emission must have shape"):
            bb.HMM("y", np.log([0.5, 0.5]), np.log(np.full((2, 2), 0.5)), np.zeros(3))


def test_two_regimes_are_recovered():
    rng = np.random.default_rng(8)
    T, stay = 200, 0.95
    s = [0]
    for _ in range(T - 1):
        s.append(s[-1] if rng.random() < stay else 1 - s[-1])
    s = np.array(s)
    y = np.where(s == 1, 2.0, -1.0) + rng.normal(0, 0.7, T)
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5, shape=2, transform="ordered")
        p = bb.Beta("stay", 2, 2)
        trans = bb.math.stack([bb.math.stack([p, 1 - p]), bb.math.stack([1 - p, p])])
        bb.HMM("y", np.log([0.5, 0.5]), bb.math.log(trans), bb.Normal.logp(y[:, None], mu, 0.7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=300, tune=300, chains=2, seed=3, progressbar=False)
    mu = res.posterior["mu"].reshape(-1, 2)
    np.testing.assert_allclose(mu.mean(0), [-1.0, 2.0], atol=0.25)
    assert 0.88 < float(res.posterior["stay"].mean()) < 0.99


def test_one_op_structural_zeros_and_the_numpy_reading():
    # a left-to-right chain (state 1 never returns to 0): log 0 = -inf entries must not poison the gradient
    from brr_bayes import ops
    rng = np.random.default_rng(4)
    y = rng.normal(size=(3, 5))
    with bb.Model() as m:
        mu = bb.Flat("mu", shape=2)
        stay = bb.Uniform("stay", 0, 1)
        # the impossible transition as data (log 0 = -inf), the possible ones as parameters
        log_trans = bb.math.stack([bb.math.log(bb.math.stack([stay, 1 - stay])), np.array([-np.inf, 0.0])])
        lp = bb.HMM("y", np.log([0.9, 0.1]), log_trans, bb.Normal.logp(y[..., None], mu, 1.0))
        bb.Deterministic("lp", lp)
    assert m.compiled.program.op_codes().count(ops.HMM_LOGLIK) == 1
    x = np.array([-0.3, 0.8, 0.4])
    mus, s = x[:2], 1 / (1 + np.exp(-x[2]))
    A = np.array([[s, 1 - s], [0.0, 1.0]])
    with np.errstate(divide="ignore"):
        want = [_enumerate(np.array([0.9, 0.1]), A, stats.norm.logpdf(y[k][:, None], mus, 1.0)) for k in range(3)]
    np.testing.assert_allclose(m.constrain(x)["lp"], want, rtol=1e-10)
    lp_, g = m.logp_and_grad(x)
    assert np.all(np.isfinite(g))
    assert_grad(m, x)
    # the numpy evaluator (predictive draws of a Deterministic) computes the same function
    from brr_bayes.compile.evaluate import evaluate_at
    rvs = {rv.name: rv for rv in m.free_rvs}
    np.testing.assert_allclose(evaluate_at([lp], {rvs["mu"]: mus, rvs["stay"]: s})[0], want, rtol=1e-10)


def test_long_series_compile_to_one_op():
    y = np.random.default_rng(0).normal(size=2000)
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5, shape=3, transform="ordered")
        rows = [bb.Dirichlet(f"a{k}", np.ones(3)) for k in range(3)]
        bb.HMM("y", np.log(np.ones(3) / 3), bb.math.log(bb.math.stack(rows)), bb.Normal.logp(y[:, None], mu, 1.0))
    assert len(m.compiled.program.op_codes()) < 40   # not 6,000 written-out steps
