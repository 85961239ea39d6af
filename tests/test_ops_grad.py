"""Every op: forward value against numpy and gradient against finite differences (hypothesis inputs)."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special

import brr_bayes as bb
from brr_bayes import ops
from helpers import assert_grad, rel_close

SETTINGS = settings(max_examples=25, deadline=None)


def vals(shape, lo, hi):
    return arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_subnormal=False))


def check(build, inputs, reference):
    """build(*exprs) -> expression; reference(*arrays) -> numpy value; weights make the sum informative."""
    w_rng = np.random.default_rng(0)
    with bb.Model() as m:
        xs = [bb.Flat(f"x{i}", shape=v.shape) for i, v in enumerate(inputs)]
        out = build(*xs)
        w = w_rng.uniform(0.5, 1.5, out.shape)
        bb.Potential("t", w * out)
    x = m.unconstrain({f"x{i}": v for i, v in enumerate(inputs)})
    expected = float(np.sum(w * reference(*inputs)))
    assert rel_close(m.logp(x), expected, 1e-10), (m.logp(x), expected)
    assert_grad(m, x)


UNARY = [
    ("exp", bb.math.exp, np.exp, -4, 4),
    ("log", bb.math.log, np.log, 0.1, 10),
    ("log1p", bb.math.log1p, np.log1p, -0.5, 10),
    ("expm1", bb.math.expm1, np.expm1, -3, 3),
    ("logit", bb.math.logit, special.logit, 0.05, 0.95),
    ("inv_logit", bb.math.inv_logit, special.expit, -6, 6),
    ("log_inv_logit", bb.math.log_inv_logit, special.log_expit, -30, 30),
    ("log1m_inv_logit", bb.math.log1m_inv_logit, lambda x: special.log_expit(-x), -30, 30),
    ("softplus", bb.math.softplus, lambda x: np.logaddexp(0, x), -30, 30),
    ("sqrt", bb.math.sqrt, np.sqrt, 0.1, 10),
    ("square", bb.math.square, np.square, -5, 5),
    ("tanh", bb.math.tanh, np.tanh, -3, 3),
    ("gammaln", bb.math.gammaln, special.gammaln, 0.3, 20),
    ("erf", bb.math.erf, special.erf, -4, 4),
    ("neg", lambda x: -x, np.negative, -5, 5),
]


@pytest.mark.parametrize("name,fn,ref,lo,hi", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, ref, lo, hi):
    @SETTINGS
    @given(vals((5,), lo, hi))
    def run(x):
        check(fn, [x], ref)
    run()


@SETTINGS
@given(vals((4,), 0.1, 5), st.lists(st.booleans(), min_size=4, max_size=4))
def test_abs_away_from_kink(mag, signs):
    x = np.where(signs, mag, -mag)
    check(bb.math.abs, [x], np.abs)


BINARY = [
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
    ("div", lambda a, b: a / b, np.divide),
    ("pow", lambda a, b: a ** b, np.power),
]
SHAPES = [((4,), (4,)), ((), (4,)), ((4,), ()), ((3, 1), (1, 4)), ((2, 3), (3,))]


@pytest.mark.parametrize("shapes", SHAPES, ids=[str(s) for s in SHAPES])
@pytest.mark.parametrize("name,fn,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcasting(name, fn, ref, shapes):
    @SETTINGS
    @given(vals(shapes[0], 0.5, 3), vals(shapes[1], 0.5, 3))
    def run(a, b):
        check(fn, [a, b], ref)
    run()


COMPARISONS = [("lt", lambda a, b: a < b, np.less), ("le", lambda a, b: a <= b, np.less_equal),
               ("gt", lambda a, b: a > b, np.greater), ("ge", lambda a, b: a >= b, np.greater_equal)]


@pytest.mark.parametrize("name,fn,ref", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparisons_give_zero_or_one_and_no_gradient(name, fn, ref):
    # a * (a < b): the comparison's own partials are zero, so the gradient is (a < b) for a and 0 for b
    # (points kept away from a == b, where finite differences would step across the jump)
    a, b = np.array([-1.0, 0.5, 2.0, 3.0, 1.0]), np.array([0.0, 0.0, 1.0, 5.0, 1.0 + 1e-3])
    check(lambda x, y: x * fn(x, y), [a, b], lambda x, y: x * ref(x, y))
    check(lambda x: fn(x, 1.5) + fn(2.5, x), [a], lambda x: 1.0 * ref(x, 1.5) + ref(2.5, x))  # a number either side
    with bb.Model():
        e = fn(np.zeros(5), bb.Flat("z", shape=5))  # numpy on the left defers to the expression
    assert isinstance(e, bb.model.expr.Expr)
    assert np.array_equal(bb.model.expr.as_expr(fn(np.arange(3.0), 1.0)).value, ref(np.arange(3.0), 1.0))


WHERE_A = np.array([-1.0, 0.5, 2.0, 3.0, -0.2])
WHERE_B = np.array([1.0, 2.0, -1.0, 0.5, 0.3])


def test_where_takes_the_chosen_branch_and_its_gradient():
    # a condition on parameters: values from either branch, gradients of the chosen one only
    check(lambda x, y: bb.math.where(x > y, x * y, bb.math.exp(y)), [WHERE_A, WHERE_B],
          lambda x, y: np.where(x > y, x * y, np.exp(y)))
    # a condition on data (a boolean array), a number as one branch
    mask = np.array([True, False, True, False, True])
    check(lambda x: bb.math.where(mask, x ** 2, 3.0), [WHERE_A], lambda x: np.where(mask, x ** 2, 3.0))
    # a scalar parameter broadcast as a branch: its gradient is the count of elements that chose it
    check(lambda x, s: bb.math.where(x >= 0.4, s * s, x), [WHERE_A, np.array(0.7)],
          lambda x, s: np.where(x >= 0.4, s * s, x))
    # matrices against a broadcast row condition
    check(lambda x: bb.math.where(np.array([True, False, True]), x, -x), [WHERE_A[:3] * np.ones((2, 3))],
          lambda x: np.where(np.array([True, False, True]), x, -x))


def test_where_guards_a_branch_that_is_not_finite_everywhere():
    # log(x) where x > 0, else 0: the inner where keeps log's input positive, so no 0 * inf in the adjoint
    check(lambda x: bb.math.where(x > 0, bb.math.log(bb.math.where(x > 0, x, 1.0)), 0.0), [WHERE_A],
          lambda x: np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0))


def test_where_on_data_folds_and_shapes_are_named():
    assert np.array_equal(bb.model.expr.as_expr(bb.math.where(np.array([1.0, 0.0]), 2.0, [3.0, 4.0])).value, [2.0, 4.0])
    with bb.Model():
        x = bb.Flat("x", shape=3)
        with pytest.raises(ValueError, match="do not broadcast together.*where"):
            bb.math.where(x > 0, x, np.zeros(4))


def test_binary_with_data_operand():
    data = np.array([1.0, -2.0, 3.0])
    check(lambda x: data / x + x * data - data ** 2 * x, [np.array([0.7, 1.3, 2.1])],
          lambda x: data / x + x * data - data ** 2 * x)


@SETTINGS
@given(vals((5,), -3, 3), st.lists(st.integers(0, 4), min_size=1, max_size=12))
def test_gather_with_repeats(x, idx):
    idx = np.array(idx)
    check(lambda e: e[idx], [x], lambda v: v[idx])


@SETTINGS
@given(vals((3, 4), -3, 3))
def test_slicing_transpose_reshape(x):
    check(lambda e: e[1:, ::2].T.reshape(-1) * 2.0, [x], lambda v: v[1:, ::2].T.reshape(-1) * 2.0)
    check(lambda e: e[:, None, 1:3] + e[-1, 0], [x], lambda v: v[:, None, 1:3] + v[-1, 0])


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_sum_mean(axis):
    @SETTINGS
    @given(vals((3, 4), -3, 3))
    def run(x):
        check(lambda e: e.sum(axis=axis), [x], lambda v: v.sum(axis=axis))
        check(lambda e: e.mean(axis=axis, keepdims=True), [x], lambda v: v.mean(axis=axis, keepdims=True))
    run()


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumsum_logsumexp_softmax(axis):
    @SETTINGS
    @given(vals((3, 4), -3, 3))
    def run(x):
        check(lambda e: bb.math.cumsum(e, axis=axis), [x], lambda v: np.cumsum(v, axis=axis))
        check(lambda e: bb.math.logsumexp(e, axis=axis), [x], lambda v: special.logsumexp(v, axis=axis))
        check(lambda e: bb.math.softmax(e, axis=axis), [x], lambda v: special.softmax(v, axis=axis))
    run()


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_cumsum_many_lines(axis):
    # 6-15 lines: the kernel runs four lines at a time plus a remainder, across outer and inner layouts
    @SETTINGS
    @given(vals((5, 6, 3), -3, 3))
    def run(x):
        check(lambda e: bb.math.cumsum(e, axis=axis), [x], lambda v: np.cumsum(v, axis=axis))
    run()


def test_logsumexp_all_and_logaddexp():
    x = np.array([[0.3, -1.2], [2.0, 0.1]])
    check(lambda e: bb.math.logsumexp(e), [x], lambda v: special.logsumexp(v))
    check(lambda e: bb.math.logaddexp(e[0], e[1]), [x], lambda v: np.logaddexp(v[0], v[1]))


@SETTINGS
@given(vals((2, 3), -3, 3), vals((2, 2), -3, 3))
def test_concatenate_and_stack(a, b):
    check(lambda x, y: bb.math.concatenate([x, y], axis=1), [a, b], lambda x, y: np.concatenate([x, y], axis=1))
    check(lambda x, y: bb.math.concatenate([x.T, y], axis=0), [a, b], lambda x, y: np.concatenate([x.T, y], 0))
    check(lambda x, y: bb.math.stack([x[:, 0], y[:, 1]], axis=1), [a, b],
          lambda x, y: np.stack([x[:, 0], y[:, 1]], axis=1))


@SETTINGS
@given(vals((4,), -2, 2), vals((4, 2), -2, 2))
def test_dense_products(v, M):
    X = np.random.default_rng(1).normal(size=(6, 4))
    check(lambda e: X @ e, [v], lambda a: X @ a)
    check(lambda e: X @ e, [M], lambda a: X @ a)
    check(lambda e: e @ X.T, [v], lambda a: a @ X.T)
    check(lambda e: e.T @ X.T, [M], lambda a: a.T @ X.T)


@SETTINGS
@given(vals((5,), -2, 2))
def test_sparse_csr_product(v):
    A = sp.random(7, 5, density=0.4, random_state=3, format="csr")
    check(lambda e: A @ e, [v], lambda a: A @ a)


def test_shared_subexpressions_lowered_once():
    with bb.Model() as m:
        x = bb.Flat("x", shape=3)
        e = bb.math.exp(x)
        bb.Potential("a", e + e * e)
    prog = m.compiled.program
    # slots: x, view, exp, mul, add: the exp is computed once
    assert prog.num_slots == 5
    x0 = np.array([0.1, -0.2, 0.3])
    assert rel_close(m.logp(x0), float(np.sum(np.exp(x0) + np.exp(2 * x0))), 1e-12)


def test_fused_linear_predictor_matches_plain_ops():
    """Sums of >= 3 gathered/scalar/column terms lower to one LinearPredictor op; same value and gradient."""
    rng = np.random.default_rng(4)
    n = 50
    i1, i2 = rng.integers(0, 5, n), rng.integers(0, 3, n)
    col, off = rng.normal(size=n), rng.normal(size=n)
    with bb.Model() as m:
        a, b, s = bb.Flat("a", shape=5), bb.Flat("b", shape=3), bb.Flat("s")
        v = bb.Flat("v", shape=n)
        eta = off + a[i1] + s * col + col * b[i2] + s + v
        bb.Potential("p", bb.math.tanh(eta))
    with bb.Model(compile_options=bb.CompileOptions(fuse=False)) as plain:
        a, b, s = bb.Flat("a", shape=5), bb.Flat("b", shape=3), bb.Flat("s")
        v = bb.Flat("v", shape=n)
        bb.Potential("p", bb.math.tanh(off + a[i1] + s * col + col * b[i2] + s + v))
    codes, plain_codes = m.compiled.program.op_codes(), plain.compiled.program.op_codes()
    assert codes.count(ops.LINEAR_PREDICTOR) == 1 and ops.ADD not in codes      # the sum is one fused op
    assert ops.LINEAR_PREDICTOR not in plain_codes and ops.ADD in plain_codes
    x = rng.normal(size=m.dim)
    A, B, S, V = x[:5], x[5:8], x[8], x[9:]
    ref = np.tanh(off + A[i1] + S * col + col * B[i2] + S + V).sum()
    assert rel_close(m.logp(x), float(ref), 1e-12)
    lp, g = m.logp_and_grad(x)
    lp0, g0 = plain.logp_and_grad(x)
    assert rel_close(lp, lp0, 1e-12) and np.allclose(g, g0, rtol=1e-12, atol=1e-12)
    assert_grad(m, x)


@pytest.mark.parametrize("name,fn,ref,lo,hi", [
    ("exp", bb.math.exp, np.exp, -745.0, 709.0),
    ("log", bb.math.log, np.log, 1e-300, 1e300),
    ("log1p", bb.math.log1p, np.log1p, -0.999999, 1e300),
], ids=["exp", "log", "log1p"])
def test_vector_math_accuracy(name, fn, ref, lo, hi):
    """exp/log/log1p over arrays (libmvec's AVX2 kernels where built, see build_info['vector_math']):
    within 4 ulp of an extended-precision reference over the whole range, in every position of a
    length that leaves a tail, with the special values IEEE asks for."""
    rng = np.random.default_rng(7)
    if name == "exp":
        x = rng.uniform(lo, hi, 4003)
    else:  # log-uniform over the positive range, plus values near the lower end
        x = np.concatenate([np.exp(rng.uniform(np.log(1e-300), np.log(hi), 3000)), rng.uniform(lo, 1.0, 1003)])
    with bb.Model() as m:
        z = bb.Flat("z", shape=x.shape)
        bb.Deterministic("out", fn(z))
    got = m.compiled.constrain(m.unconstrain({"z": x}))["out"]
    want = ref(x.astype(np.longdouble))
    ulp = np.abs(got - want) / np.spacing(np.abs(want.astype(np.float64)))
    assert np.all(np.isfinite(got)), name
    assert ulp.max() <= 4.0, (name, float(ulp.max()), float(x[np.argmax(ulp)]))
    # the same value wherever the element sits (vector body or padded tail)
    for n in (1, 2, 3, 5, 7):
        with bb.Model() as m2:
            z2 = bb.Flat("z", shape=(n,))
            bb.Deterministic("out", fn(z2))
        got2 = m2.compiled.constrain(m2.unconstrain({"z": x[-n:]}))["out"]
        np.testing.assert_array_equal(got2, got[-n:])
    special_in = {"exp": [0.0, -800.0, 800.0, -np.inf, np.inf], "log": [1.0, 0.0, np.inf, -1.0],
                  "log1p": [0.0, -1.0, np.inf, -2.0]}[name]
    with bb.Model() as m3:
        z3 = bb.Flat("z", shape=(len(special_in),))
        bb.Deterministic("out", fn(z3))
    with np.errstate(all="ignore"):
        expect = ref(np.array(special_in))
    got3 = m3.compiled.constrain(np.array(special_in))["out"]
    np.testing.assert_array_equal(got3, expect)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4))])
def test_product_of_two_parameter_expressions(sa, sb):
    rng = np.random.default_rng(5)
    with bb.Model() as m:
        a = bb.Flat("a", shape=sa)
        b = bb.Flat("b", shape=sb)
        out = bb.Deterministic("ab", a @ b)
        bb.Potential("p", bb.math.tanh(out).sum())
    A, B = rng.normal(size=sa), rng.normal(size=sb)
    x = np.concatenate([A.ravel(), B.ravel()])
    np.testing.assert_allclose(m.compiled.constrain(x)["ab"], A @ B, rtol=1e-13, atol=1e-14)
    assert rel_close(m.logp(x), float(np.tanh(A @ B).sum()), 1e-12)
    assert_grad(m, x)
    with bb.Model():
        with pytest.raises(ValueError, match="cannot multiply expressions of shapes \\(2, 3\\) and \\(2,\\)"):
            bb.Flat("c", shape=(2, 3)) @ bb.Flat("d", shape=2)
