"""The ICAR prior written out in a potential (Stan's target += -0.5 * dot_self(phi[node1] - phi[node2]),
NumPyro's factor) compiles to the fused op bb.ICAR uses; anything else stays as written."""
import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import ops
from helpers import assert_grad

EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [1, 3], [4, 2]])


def _model(potential, n=5):
    with bb.Model() as m:
        phi = bb.Flat("phi", shape=n)
        bb.Potential("icar", potential(phi, EDGES[:, 0], EDGES[:, 1]))
        bb.Normal("y", phi, 1.0, observed=np.linspace(-1, 1, n))   # a proper posterior around the field
    return m


def _reference():
    with bb.Model() as m:
        phi = bb.Flat("phi", shape=5)
        m.add_density("icar", _icar_density(phi))
        bb.Normal("y", phi, 1.0, observed=np.linspace(-1, 1, 5))
    return m


def _icar_density(phi):
    from brr_bayes.model.priors import _IcarPairwise
    return _IcarPairwise(phi, EDGES)


WRITTEN = {
    "square": lambda phi, i, j: -0.5 * bb.math.square(phi[i] - phi[j]).sum(),
    "dot_self": lambda phi, i, j: -0.5 * ((phi[i] - phi[j]) * (phi[i] - phi[j])).sum(),
    "pow": lambda phi, i, j: -0.5 * ((phi[i] - phi[j]) ** 2).sum(),
    "constant_inside": lambda phi, i, j: (-0.5 * bb.math.square(phi[i] - phi[j])).sum(),
    "reversed": lambda phi, i, j: bb.math.square(phi[j] - phi[i]).sum() * -0.5,
}


@pytest.mark.parametrize("how", sorted(WRITTEN))
def test_written_out_icar_is_the_fused_op(how):
    m, ref = _model(WRITTEN[how]), _reference()
    codes = m.compiled.program.op_codes()
    assert ops.ICAR_PAIRWISE in codes and ops.GATHER not in codes and ops.SQUARE not in codes, codes
    assert "pairwise" in str(m.explain())
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.normal(size=5)
        assert m.logp(x) == pytest.approx(ref.logp(x), rel=1e-14, abs=1e-14)
        np.testing.assert_allclose(m.logp_and_grad(x)[1], ref.logp_and_grad(x)[1], rtol=1e-13, atol=1e-13)
    assert_grad(m, rng.normal(size=5))   # finite differences, the batch lanes and the device kernels


@pytest.mark.parametrize("potential,value", [
    (lambda phi, i, j: -1.0 * bb.math.square(phi[i] - phi[j]).sum(),           # another weight
     lambda x, i, j: -np.sum((x[i] - x[j]) ** 2)),
    (lambda phi, i, j: -0.5 * bb.math.square(phi[i] - 2.0 * phi[j]).sum(),     # not a difference of one field
     lambda x, i, j: -0.5 * np.sum((x[i] - 2 * x[j]) ** 2)),
    (lambda phi, i, j: -0.5 * ((phi[i] - phi[j]) * (phi[j] - phi[i])).sum(),   # not a square
     lambda x, i, j: 0.5 * np.sum((x[i] - x[j]) ** 2)),
])
def test_other_potentials_stay_as_written(potential, value):
    m = _model(potential)
    assert ops.ICAR_PAIRWISE not in m.compiled.program.op_codes()
    x = np.random.default_rng(2).normal(size=5)
    y = np.linspace(-1, 1, 5)
    normal = -0.5 * np.sum((y - x) ** 2) - 5 * 0.5 * np.log(2 * np.pi)
    assert m.logp(x) == pytest.approx(normal + value(x, EDGES[:, 0], EDGES[:, 1]), rel=1e-12)
    assert_grad(m, x)


def test_a_scatter_into_one_value_is_a_sum():
    # reduce_sum over a field ordered by component, with one component, is all of it: one Sum op, four
    # accumulators, where a one-segment scatter-add was a single chain of adds
    with bb.Model() as m:
        phi = bb.ICAR("phi", 5, edges=EDGES)
    codes = m.compiled.program.op_codes()
    assert ops.SUM in codes and ops.SCATTER_ADD not in codes
    x = np.random.default_rng(3).normal(size=5)
    d = x[EDGES[:, 0]] - x[EDGES[:, 1]]
    assert m.logp(x) == pytest.approx(-0.5 * np.sum(d * d) - 0.5 * (x.sum() / (0.001 * 5)) ** 2, rel=1e-12)
    assert_grad(m, x)


def test_the_icar_inside_a_sum_of_terms():
    # Stan's icar_normal_lpdf returns -0.5 * dot_self(phi[node1] - phi[node2]) + normal_lpdf(sum(phi) | 0,
    # 0.001 * N): the pairwise part is the fused op, the rest one target increment
    def potential(phi, i, j):
        d = phi[i] - phi[j]
        return -0.5 * (d * d).sum() - 0.5 * bb.math.square(phi.sum() / 0.005) + 1.25
    m = _model(potential)
    codes = m.compiled.program.op_codes()
    assert ops.ICAR_PAIRWISE in codes and ops.GATHER not in codes and codes.count(ops.TARGET_ADD) == 1
    x = np.random.default_rng(6).normal(size=5)
    i, j = EDGES[:, 0], EDGES[:, 1]
    y = np.linspace(-1, 1, 5)
    want = -0.5 * np.sum((x[i] - x[j]) ** 2) - 0.5 * (x.sum() / 0.005) ** 2 + 1.25 \
        - 0.5 * np.sum((y - x) ** 2) - 2.5 * np.log(2 * np.pi)
    assert m.logp(x) == pytest.approx(want, rel=1e-12)
    assert_grad(m, x)


def test_a_subtracted_icar_term():
    # 1 - 0.5 * sum(d^2): the pairwise part enters with its sign
    m = _model(lambda phi, i, j: 1.0 - 0.5 * bb.math.square(phi[i] - phi[j]).sum())
    assert ops.ICAR_PAIRWISE in m.compiled.program.op_codes()
    x = np.random.default_rng(7).normal(size=5)
    assert m.logp(x) == pytest.approx(_reference().logp(x) + 1.0, rel=1e-13)
    assert_grad(m, x)


def test_a_weighted_icar_says_how_to_fuse():
    # -0.5 * tau * sum(d^2) with a parameter tau stays as written (correct); explain() says what fuses
    with bb.Model() as m:
        tau = bb.Gamma("tau", 2.0, 1.0)
        phi = bb.Flat("phi", shape=5)
        bb.Potential("icar", -0.5 * tau * bb.math.square(phi[EDGES[:, 0]] - phi[EDGES[:, 1]]).sum())
        bb.Normal("y", phi, 1.0, observed=np.linspace(-1, 1, 5))
    assert ops.ICAR_PAIRWISE not in m.compiled.program.op_codes()
    assert "write the weight on the field" in str(m.explain())
    assert_grad(m, np.random.default_rng(8).normal(size=m.dim))
