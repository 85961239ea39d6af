"""Transforms: constrain/unconstrain round trip, support, and log|J| against a numerical Jacobian."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import brr_bayes as bb
from brr_bayes.model import transforms as T
from helpers import assert_grad, fd_grad

SETTINGS = settings(max_examples=20, deadline=None)


def flat_model(transform, shape):
    """A model whose log density is exactly the transform's log|J| (no prior term)."""
    with bb.Model() as m:
        bb.Flat("v", shape=shape, transform=transform)
    return m


def constrained_free_coords(tr, v):
    """The constrained values as free coordinates (the ones the density is defined over)."""
    if isinstance(tr, (T.Simplex, T.SumToZero)):
        return v[..., :-1].ravel()
    if isinstance(tr, T.CholeskyCorr):
        return v[np.tril_indices(v.shape[0], -1)]
    return v.ravel()


CASES = [
    ("lower", T.LowerBound(1.5), (3,)),
    ("upper", T.UpperBound(-0.5), (3,)),
    ("interval", T.Interval(-1.0, 2.0), (3,)),
    ("ordered", T.Ordered(), (2, 4)),
    ("simplex", T.Simplex(), (2, 4)),
    ("cholesky_corr", T.CholeskyCorr(), (4, 4)),
]


@pytest.mark.parametrize("name,tr,shape", CASES, ids=[c[0] for c in CASES])
def test_round_trip_and_log_jacobian(name, tr, shape):
    m = flat_model(tr, shape)

    @SETTINGS
    @given(arrays(np.float64, (m.dim,), elements=st.floats(-2, 2)))
    def run(y):
        v = m.constrain(y)["v"]
        tr.check(v, name)                                  # inside the support
        np.testing.assert_allclose(m.unconstrain({"v": v}), y, rtol=1e-9, atol=1e-9)
        J = np.stack([fd_grad(lambda yy, i=i: constrained_free_coords(tr, m.constrain(yy)["v"])[i], y, h=1e-4)
                      for i in range(m.dim)])
        logdet = np.linalg.slogdet(J)[1]
        assert abs(m.logp(y) - logdet) < 1e-7, (m.logp(y), logdet)
        assert_grad(m, y)
    run()


def test_sum_to_zero_is_an_isometry():
    m = flat_model(T.SumToZero(), (2, 5))
    y = np.random.default_rng(0).normal(size=m.dim)
    v = m.constrain(y)["v"]
    np.testing.assert_allclose(v.sum(-1), 0, atol=1e-12)
    np.testing.assert_allclose(m.unconstrain({"v": v}), y, atol=1e-12)
    V = T.SumToZero.basis(5)
    np.testing.assert_allclose(V.T @ V, np.eye(4), atol=1e-12)   # orthonormal columns: log|J| = 0
    assert m.logp(y) == 0.0
    with bb.Model() as m2:
        v2 = bb.Flat("v", shape=5, transform=T.SumToZero())
        bb.Potential("p", v2 * np.arange(5.0))
    assert_grad(m2, np.random.default_rng(1).normal(size=4))


def test_default_transforms_follow_the_support():
    with bb.Model() as m:
        bb.HalfNormal("s", 1.0)
        bb.Beta("p", 2, 2)
        bb.Uniform("u", -3, 4)
        bb.Dirichlet("w", np.ones(3))
        bb.LKJCholesky("L", 3, 2.0)
    vals = m.constrain(np.random.default_rng(0).normal(size=m.dim))
    assert vals["s"] > 0 and 0 < vals["p"] < 1 and -3 < vals["u"] < 4
    assert abs(vals["w"].sum() - 1) < 1e-12
    np.testing.assert_allclose(np.sum(vals["L"] ** 2, axis=1), 1, atol=1e-12)
