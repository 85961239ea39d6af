"""The compiler's canonicalising passes: each applied where it should be, declined where it would not be
exact or would not pay, and never changing the log density or its gradient."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import brr_bayes as bb
from brr_bayes import ops
from brr_bayes.compile import PASSES, CompileOptions
from brr_bayes.compile.canonical import Canonicalizer
from brr_bayes.model.expr import Const, Op
from helpers import assert_grad

PLAIN = CompileOptions(passes=(), fuse=False, glm=False, compress=False)  # the program as written


def _same_density(model, points=3, seed=0, rtol=1e-10):
    """The model's density and gradient equal those of the same model compiled with nothing rewritten."""
    fast = model.compiled
    model.compile_options = PLAIN
    plain = model.compiled
    rng = np.random.default_rng(seed)
    for _ in range(points):
        x = rng.normal(scale=0.5, size=fast.dim)
        lf, gf = fast.logp_and_grad(x)
        lp, gp = plain.logp_and_grad(x)
        assert abs(lf - lp) <= rtol * max(1.0, abs(lp)), (lf, lp)
        np.testing.assert_allclose(gf, gp, rtol=rtol, atol=rtol * max(1.0, np.abs(gp).max()))
    model.compile_options = CompileOptions()
    return fast


def _canonical(e, **kw):
    return Canonicalizer(CompileOptions(**kw))(e)


def _param(shape=()):
    with bb.Model():
        return bb.Normal("v", 0, 1, shape=shape)


def _is(e, kind, code=None):
    return isinstance(e, Op) and e.kind == kind and (code is None or e.attrs.get("code") == code)


# push_through_gather -------------------------------------------------------------------------------
def test_scale_times_gathered_effect_becomes_one_gather_of_group_values():
    with bb.Model():
        s = bb.HalfNormal("s", 1)
        z = bb.Normal("z", 0, 1, shape=5)
    idx = np.repeat(np.arange(5), 40)
    c = _canonical(s * z[idx])
    assert _is(c, "gather") and c.args[0].shape == (5,) and _is(c.args[0], "binary", ops.MUL)


def test_push_through_uses_only_the_entries_the_index_reaches():
    z = _param((100,))
    idx = np.repeat([3, 7], 50)
    c = _canonical(bb.math.exp(z[idx]))
    assert _is(c, "gather") and c.args[0].shape == (2,)   # exp of 2 values, never of the other 98


def test_push_through_declined_when_the_index_has_no_repeats():
    z = _param((200,))
    idx = np.random.default_rng(0).permutation(200)
    c = _canonical(bb.math.exp(z[idx]))
    assert _is(c, "unary", ops.EXP)


def test_push_through_declined_for_different_indices():
    with bb.Model():
        a, b = bb.Normal("a", 0, 1, shape=4), bb.Normal("b", 0, 1, shape=4)
    i = np.repeat(np.arange(4), 30)
    c = _canonical(a[i] * b[i[::-1]], passes=("push_through_gather",))
    assert _is(c, "binary", ops.MUL)


# factor_rows -------------------------------------------------------------------------------------------
def test_row_level_matrix_with_repeated_rows_is_factored():
    with bb.Model():
        beta = bb.Normal("beta", 0, 1, shape=3)
    Z = np.random.default_rng(0).normal(size=(10, 3))
    k = np.random.default_rng(1).integers(0, 10, 500)
    c = _canonical(Z[k] @ beta)
    assert _is(c, "gather") and _is(c.args[0], "matmul") and c.args[0].attrs["matrix"].shape == (10, 3)


def test_factor_declined_for_distinct_rows_and_for_row_level_parameters():
    with bb.Model():
        beta = bb.Normal("beta", 0, 1, shape=3)
        z = bb.Normal("z", 0, 1, shape=4)
        e = bb.Normal("e", 0, 1, shape=2000)
    X = np.random.default_rng(0).normal(size=(2000, 3))
    C = Canonicalizer(CompileOptions())
    assert _is(C(X @ beta), "matmul")
    g = np.repeat(np.arange(4), 500)
    out = C(bb.math.exp(z[g]) * e)
    assert _is(out, "binary", ops.MUL)
    assert any("parameter 'e'" in msg for _, msg in C.declined)


def test_factor_over_two_factors_and_a_column():
    with bb.Model():
        a, b = bb.Normal("a", 0, 1, shape=3), bb.Normal("b", 0, 1, shape=4)
    rng = np.random.default_rng(2)
    i, j, x = rng.integers(0, 3, 1000), rng.integers(0, 4, 1000), rng.integers(0, 2, 1000).astype(float)
    c = _canonical(bb.math.exp(a[i] * b[j] + x))
    assert _is(c, "gather") and c.args[0].size <= 24


# select_rows, split_row_sums, simplify, cse, fold ------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
def test_indicator_matrix_product_is_a_gather(sparse):
    z = _param((6,))
    g = np.random.default_rng(0).integers(0, 6, 300)
    H = np.zeros((300, 6))
    H[np.arange(300), g] = 1.0
    c = _canonical((sp.csr_matrix(H) if sparse else H) @ z)
    assert _is(c, "gather") and np.array_equal(c.attrs["index"], g)


def test_product_with_two_nonzeros_in_a_row_is_not_a_gather():
    z = _param((6,))
    H = np.zeros((300, 6))
    H[:, 0] = 1.0
    H[0, 1] = 2.0
    c = _canonical(H @ z, passes=("select_rows",))
    assert _is(c, "matmul")


def test_row_sum_of_small_design_becomes_a_sum_of_columns():
    with bb.Model():
        coef = bb.Normal("coef", 0, 1, shape=(7, 2))
    rng = np.random.default_rng(0)
    c, x = rng.integers(0, 7, 400), rng.normal(size=400)
    X = np.stack([np.ones(400), x], axis=1)
    out = _canonical((X * coef[c]).sum(axis=1))
    assert _is(out, "binary", ops.ADD)   # x * coef[c, 1] + coef[c, 0]: two fused-term shapes
    assert not any(_is(t, "scatter") for t in out.args)


def test_simplify_cancels_inverse_pairs_and_units_but_not_exp_of_log():
    z = _param((5,))
    assert _canonical(bb.math.logit(bb.math.inv_logit(z))) is z
    assert _canonical(bb.math.log(bb.math.exp(z))) is z
    assert _canonical(-(-z)) is z
    assert _canonical(z * np.ones(5)) is z
    assert _is(_canonical(bb.math.exp(bb.math.log(z))), "unary", ops.EXP)  # log needs z > 0


def test_cse_merges_equal_expressions_built_separately():
    with bb.Model():
        s = bb.HalfNormal("s", 1)
        z = bb.Normal("z", 0, 1, shape=5)
    C = Canonicalizer(CompileOptions())
    assert C(s * z + 1.0) is C(s * z + 1.0)
    C = Canonicalizer(CompileOptions().without("cse"))
    assert C(s * z + 1.0) is not C(s * z + 1.0)


def test_fold_constants_folds_data_exposed_by_a_rewrite():
    e = Op("binary", [Const(np.ones(3)), Const(np.arange(3.0))], (3,), code=ops.ADD)
    c = _canonical(e)
    assert isinstance(c, Const) and np.array_equal(c.value, [1.0, 2.0, 3.0])


def test_unknown_pass_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown pass"):
        CompileOptions(passes=("fuse_everything",))


# whole models: the passes change nothing but speed ---------------------------------------------------------
def test_natural_mrp_compiles_to_the_fast_program_and_the_same_density():
    rng = np.random.default_rng(3)
    n = 3000
    state, age = rng.integers(0, 12, n), rng.integers(0, 5, n)
    Z = rng.normal(size=(12, 2))
    with bb.Model() as m:
        a = bb.Normal("a", 0, 2)
        beta = bb.Normal("beta", 0, 1, shape=2)
        s1, s2 = bb.HalfNormal("s1", 1), bb.HalfNormal("s2", 1)
        z1, z2 = bb.Normal("z1", 0, 1, shape=12), bb.Normal("z2", 0, 1, shape=5)
        eta = a + Z[state] @ beta + s1 * z1[state] + s2 * z2[age]
        bb.Bernoulli("y", logit_p=eta, observed=rng.integers(0, 2, n))
    fast = _same_density(m)
    assert ops.GLM in fast.compiler.emitted
    sizes = [fast.program.slot_size(s) for s in range(fast.program.num_slots)]
    assert max(sizes) <= 60  # 60 cells; no op over the 3000 rows


def test_deep_written_out_recursion_compiles_and_matches_numpy():
    """A 3000-step written-out AR(1) likelihood: far past Python's recursion limit."""
    T = 3000
    y = np.cumsum(np.random.default_rng(0).normal(size=T)) * 0.1
    with bb.Model() as m:
        rho = bb.Normal("rho", 0, 0.5)
        lp = 0.0
        for t in range(1, T):
            lp = lp - 0.5 * (y[t] - rho * y[t - 1]) ** 2
        bb.Potential("ar", bb.Deterministic("ar_lp", lp))
    r = 0.3
    ref = -0.5 * np.sum((y[1:] - r * y[:-1]) ** 2) - 0.5 * (r / 0.5) ** 2 - np.log(0.5 * np.sqrt(2 * np.pi))
    assert m.logp(np.array([r])) == pytest.approx(ref, rel=1e-12)
    assert_grad(m, np.array([r]))
    prior = bb.sample_prior_predictive(m, draws=3, seed=1)   # the numpy evaluator walks it too
    rho_draws = np.ravel(prior["prior"]["rho"])
    want = [-0.5 * np.sum((y[1:] - v * y[:-1]) ** 2) for v in rho_draws]
    np.testing.assert_allclose(np.ravel(prior["prior"]["ar_lp"]), want, rtol=1e-12)


def test_deep_row_level_chain_compiles_and_keeps_the_density():
    """300 nested elementwise steps over 5,000 rows (a written-out recursion over rows): factor_rows' verdicts
    propagate up the chain instead of re-walking it at every step."""
    rng = np.random.default_rng(0)
    n = 5000
    x, g = rng.normal(size=n), rng.integers(0, 10, n)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1, shape=10)
        b = bb.Normal("b", 0, 0.1)
        eta = a[g]
        for _ in range(300):
            eta = bb.math.tanh(eta * b + x)
        bb.Normal("y", eta, 1.0, observed=rng.normal(size=n))
    _same_density(m, points=2)


def test_factoring_a_product_with_a_transformed_coefficient_vector():
    """X @ exp(theta): the coefficient vector is not a row of the product, so it never blocks factoring."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 100))[rng.integers(0, 5, 3000)]
    with bb.Model() as m:
        th = bb.Normal("th", 0, 1, shape=100)
        bb.Normal("y", X @ bb.math.exp(th), 1.0, observed=rng.normal(size=3000))
    assert "computed over its 5 distinct data rows" in str(m.explain())
    _same_density(m, points=2)


# random graphs ----------------------------------------------------------------------------------------------
@st.composite
def _graphs(draw):
    """A random linear predictor over rows (gathers, scales, columns, products, row-level matrices, one-hot
    products, row sums, inverse pairs) and a random likelihood family."""
    n = draw(st.integers(64, 400))
    seed = draw(st.integers(0, 2**31 - 1))
    pieces = draw(st.lists(st.sampled_from(["scaled", "exp", "pair", "column", "matrix", "onehot", "rowsum",
                                            "logit_pair", "scalar_col", "offset"]), min_size=1, max_size=6))
    family = draw(st.sampled_from(["bernoulli", "binomial", "poisson", "normal", "negbin"]))
    return n, seed, pieces, family


def _random_model(n, seed, pieces, family):
    rng = np.random.default_rng(seed)
    L = [int(rng.integers(2, 9)) for _ in range(3)]
    idx = [rng.integers(0, l, n) for l in L]
    col = rng.integers(0, 3, n).astype(float) * rng.normal()
    with bb.Model() as m:
        s = bb.HalfNormal("s", 1)
        zs = [bb.Normal(f"z{k}", 0, 1, shape=l) for k, l in enumerate(L)]
        beta = bb.Normal("beta", 0, 1, shape=2)
        eta = bb.Normal("a", 0, 1)
        for p in pieces:
            if p == "scaled":
                t = s * zs[0][idx[0]]
            elif p == "exp":
                t = 0.3 * bb.math.exp(0.5 * zs[1][idx[1]])
            elif p == "pair":
                t = zs[0][idx[0]] * zs[2][idx[2]] * 0.2
            elif p == "column":
                t = col * zs[1][idx[1]]
            elif p == "matrix":
                t = rng.normal(size=(L[2], 2))[idx[2]] @ beta
            elif p == "onehot":
                H = np.zeros((n, L[1]))
                H[np.arange(n), idx[1]] = rng.choice([1.0, 0.5])
                t = H @ zs[1]
            elif p == "rowsum":
                X = np.stack([np.ones(n), col], axis=1)
                t = (X * bb.math.stack([zs[0], zs[0] * 0.5], axis=1)[idx[0]]).sum(axis=1)
            elif p == "logit_pair":
                t = bb.math.logit(bb.math.inv_logit(zs[2][idx[2]] * s))
            elif p == "scalar_col":
                t = beta[0] * rng.normal(size=n)   # distinct rows: nothing to merge
            else:
                eta = eta + np.log(rng.integers(1, 4, n).astype(float))   # a data offset (log exposure)
                continue
            eta = eta + 0.5 * t
        if family == "bernoulli":
            bb.Bernoulli("y", logit_p=eta, observed=rng.integers(0, 2, n))
        elif family == "binomial":
            k = rng.integers(1, 6, n)
            bb.Binomial("y", k, p=bb.math.inv_logit(eta), observed=rng.binomial(k, 0.4))
        elif family == "poisson":
            bb.Poisson("y", mu=bb.math.exp(eta), observed=rng.poisson(2.0, n))
        elif family == "normal":
            bb.Normal("y", eta, bb.HalfNormal("sigma", 1), observed=rng.normal(size=n))
        else:
            bb.NegativeBinomial("y", log_mu=eta, phi=bb.HalfNormal("phi", 5), observed=rng.poisson(2.0, n))
    return m


@settings(max_examples=40, deadline=None)
@given(_graphs())
def test_random_graphs_keep_density_and_gradient(graph):
    m = _random_model(*graph)
    _same_density(m, points=2, seed=graph[1] % 1000)
    assert "Model:" in str(m.explain())
    # merged cells without the fused op (the families' cell densities as array expressions)
    _same_density_with(m, CompileOptions(glm=False))
    _same_density_with(m, CompileOptions(fuse=False))


@pytest.mark.parametrize("passes", [(p,) for p in PASSES] + [tuple(p for p in PASSES if p != "cse")])
@pytest.mark.parametrize("pieces,family", [
    (["scaled", "matrix", "onehot", "rowsum", "logit_pair", "pair", "offset"], "poisson"),   # rows distinct
    (["scaled", "column", "offset"], "poisson"),                                            # rows merge
    (["scaled", "matrix", "column"], "normal")])
def test_each_pass_alone_keeps_the_density(passes, pieces, family):
    m = _random_model(400, 7, pieces, family)
    _same_density_with(m, CompileOptions(passes=passes))
    _same_density_with(m, CompileOptions(passes=passes, glm=False))


def _same_density_with(model, options):
    model.compile_options = options
    a = model.compiled
    model.compile_options = PLAIN
    b = model.compiled
    x = np.random.default_rng(0).normal(scale=0.5, size=a.dim)
    la, ga = a.logp_and_grad(x)
    lb, gb = b.logp_and_grad(x)
    assert la == pytest.approx(lb, rel=1e-10)
    np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-10 * max(1.0, np.abs(gb).max()))


@pytest.mark.parametrize("family", ["bernoulli", "normal"])
def test_row_level_predictor_matrix_enters_the_fused_pass_by_columns(family):
    """X @ b with a continuous column (no two rows alike, nothing to factor or merge) is read column by column
    inside the one GLM pass: no dense product over the rows, and the same density and gradient."""
    rng = np.random.default_rng(5)
    n = 4000
    g = rng.integers(0, 20, n)
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n), rng.gamma(2.0, size=n)])
    with bb.Model() as m:
        a = bb.Normal("a", 0, 2)
        b = bb.Normal("b", 0, 1, shape=3)
        s = bb.HalfNormal("s", 1)
        z = bb.Normal("z", 0, 1, shape=20)
        eta = a + X @ b + s * z[g]
        if family == "bernoulli":
            bb.Bernoulli("y", logit_p=eta, observed=rng.integers(0, 2, n))
        else:
            bb.Normal("y", eta, bb.HalfNormal("sigma", 1), observed=rng.normal(size=n))
    fast = _same_density(m, rtol=1e-12)
    assert ops.GLM in fast.compiler.emitted and ops.DENSE_MATMUL not in fast.compiler.emitted
    assert "4 linear-predictor terms" not in str(m.explain())   # a, three columns, the gather: 5 terms
    assert "5 linear-predictor terms" in str(m.explain())


def test_wide_row_level_matrix_stays_one_product():
    """Past MAX_SPLIT_COLUMNS columns the product stays one op (a term per column would not pay)."""
    from brr_bayes.compile.lower import MAX_SPLIT_COLUMNS
    rng = np.random.default_rng(6)
    n, k = 500, MAX_SPLIT_COLUMNS + 1
    X, g = rng.normal(size=(n, k)), rng.integers(0, 5, n)
    with bb.Model() as m:
        b = bb.Normal("b", 0, 1, shape=k)
        z = bb.Normal("z", 0, 1, shape=5)
        bb.Bernoulli("y", logit_p=X @ b + z[g], observed=rng.integers(0, 2, n))
    fast = _same_density(m, rtol=1e-12)
    assert ops.DENSE_MATMUL in fast.compiler.emitted
