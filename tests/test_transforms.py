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
    # a bound per element (DataBounds: Stan's vector<lower=L, upper=U>), and per row, broadcast
    ("lower_vector", T.LowerBound(np.array([1.5, -2.0, 0.0])), (3,)),
    ("upper_vector", T.UpperBound(np.array([-0.5, 3.0, 1.0])), (3,)),
    ("interval_vector", T.Interval(np.array([-1.0, 0.0, 5.0]), np.array([2.0, 0.1, 9.0])), (3,)),
    ("interval_rows", T.Interval(np.array([[-1.0], [4.0]]), 7.0), (2, 3)),
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


VECTOR = [("ordered", T.Ordered(), (3, 4)), ("sum_to_zero", T.SumToZero(), (3, 4)), ("simplex", T.Simplex(), (3, 4)),
          ("ordered_of_one", T.Ordered(), (2, 1)), ("cholesky_corr", T.CholeskyCorr(), (4, 4))]


@pytest.mark.parametrize("name,tr,shape", VECTOR, ids=[c[0] for c in VECTOR])
def test_vector_transforms_carry_their_output_s_gradient(name, tr, shape):
    # a weighted function of the constrained values, so the adjoint reaching the transform is not zero: the
    # gradient against finite differences, the batch executor's lanes equal to the scalar executor bit for
    # bit, the device executor's kernels (on the host) within 1e-10 (assert_grad)
    w = np.random.default_rng(3).uniform(-1, 1, shape)
    with bb.Model() as m:
        v = bb.Flat("v", shape=shape, transform=tr)
        bb.Potential("p", bb.math.sum(w * v + 0.3 * w * v * v))
    assert not m.compiled.program.device_unsupported_ops()
    y = np.random.default_rng(4).uniform(-1.5, 1.5, m.dim)
    assert_grad(m, y)


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


def test_uniform_with_a_bound_per_element_against_scipy_and_sampled():
    from scipy import special, stats
    lo, hi = np.array([0.0, 1.0, -5.0, 100.0]), np.array([1.0, 5.0, -4.5, 300.0])
    with bb.Model() as m:
        bb.Uniform("x", lo, hi)
    assert isinstance(m.free_rvs[0].transform, T.DataBounds)
    u = np.array([0.3, -1.2, 2.0, 0.0])
    x = lo + (hi - lo) * special.expit(u)
    np.testing.assert_allclose(m.constrain(u)["x"], x, rtol=1e-14)
    # the density in u: uniform's log density at x plus log|dx/du| = log(hi - lo) + log s + log(1 - s)
    expected = stats.uniform.logpdf(x, lo, hi - lo).sum() + np.sum(np.log(hi - lo) + np.log(special.expit(u))
                                                                   + np.log(special.expit(-u)))
    assert abs(m.logp(u) - expected) < 1e-10 * max(1.0, abs(expected))
    np.testing.assert_allclose(m.unconstrain({"x": x}), u, rtol=1e-9, atol=1e-12)
    assert_grad(m, u)
    res = bb.sample(m, draws=1000, tune=500, chains=2, seed=3, progressbar=False)
    draws = np.asarray(res.posterior["x"]).reshape(-1, 4)
    assert np.all((draws > lo) & (draws < hi))
    # means and sds of uniforms, within 5 Monte Carlo standard errors (about 1,000 effective draws)
    se = (hi - lo) / np.sqrt(12) / np.sqrt(1000)
    assert np.all(np.abs(draws.mean(axis=0) - (lo + hi) / 2) < 5 * se)


def test_bounds_per_element_that_are_wrong_are_named():
    with pytest.raises(ValueError, match="lower < upper elementwise; at index \\(1,\\): lower 3, upper 2"):
        T.Interval(np.array([0.0, 3.0]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="do not broadcast together"):
        T.Interval(np.array([0.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    with bb.Model() as m:
        bb.Flat("v", shape=3, transform=T.LowerBound(np.array([0.0, 1.0])))
    with pytest.raises(ValueError, match="do not broadcast to the variable's shape \\(3,\\)"):
        m.logp(np.zeros(3))   # named when the model compiles, before the core sees it
    with pytest.raises(ValueError, match="lower must be < upper"):
        with bb.Model():
            bb.Uniform("x", np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    # a repeated value stays one scalar bound (the fused transform op)
    assert type(T.LowerBound(np.full(3, 2.0))) is T.LowerBound
