"""The fused GLM op (linear predictor + likelihood in one pass) against the unfused ops, and finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import brr_bayes as bb
from brr_bayes import ops
from brr_bayes.compile import Compiler
from helpers import assert_grad


def _model(family, n, seed, with_dense=False):
    rng = np.random.default_rng(seed)
    g1, g2 = rng.integers(0, 7, n), rng.integers(0, 3, n)
    x, w = rng.normal(size=n), rng.uniform(0.5, 2.0, n)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1)
        b = bb.Normal("b", 0, 1)
        u = bb.Normal("u", 0, 1, shape=7)
        v = bb.Normal("v", 0, 1, shape=3)
        eta = a + b * x + u[g1] + w * v[g2]
        if with_dense:
            eta = eta + bb.Normal("e", 0, 0.1, shape=n)
        if family == "bernoulli":
            bb.Bernoulli("y", logit_p=eta, observed=rng.integers(0, 2, n))
        elif family == "binomial":
            trials = rng.integers(1, 20, n)
            bb.Binomial("y", trials, logit_p=eta, observed=rng.binomial(trials, 0.3))
        elif family == "poisson":
            bb.Poisson("y", log_mu=eta, observed=rng.poisson(2.0, n))
        else:
            bb.Normal("y", eta, bb.HalfNormal("s", 1), observed=rng.normal(size=n))
    return m


FAMILIES = ["bernoulli", "binomial", "poisson", "normal"]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [5, 1024, 3001])   # under, at and across the kernel's row blocks
def test_fused_equals_unfused(family, n, monkeypatch):
    fused = _model(family, n, seed=n, with_dense=(n == 5))
    assert ops.GLM in fused.compiled.compiler.emitted
    monkeypatch.setattr(Compiler, "glm", lambda self, *a, **k: False)
    plain = _model(family, n, seed=n, with_dense=(n == 5))
    assert ops.GLM not in plain.compiled.compiler.emitted
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = 0.5 * rng.normal(size=fused.dim)
        lf, gf = fused.logp_and_grad(x)
        lp, gp = plain.logp_and_grad(x)
        assert lf == pytest.approx(lp, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(gf, gp, rtol=1e-10, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(family=st.sampled_from(FAMILIES), seed=st.integers(0, 10_000))
def test_fused_gradient_matches_finite_differences(family, seed):
    m = _model(family, 40, seed)
    x = 0.5 * np.random.default_rng(seed).normal(size=m.dim)
    assert_grad(m, x)
