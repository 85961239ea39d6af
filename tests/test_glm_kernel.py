"""The fused GLM op (linear predictor + likelihood in one pass) against the unfused ops, and finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import brr_bayes as bb
from brr_bayes import ops
from brr_bayes.compile import Compiler
from helpers import assert_grad


def _likelihood(family, eta, rng, n):
    """The family's likelihood of n simulated responses given eta (inside a model context)."""
    if family == "bernoulli":
        bb.Bernoulli("y", logit_p=eta, observed=rng.integers(0, 2, n))
    elif family == "binomial":
        trials = rng.integers(1, 20, n)
        bb.Binomial("y", trials, logit_p=eta, observed=rng.binomial(trials, 0.3))
    elif family == "poisson":
        bb.Poisson("y", log_mu=eta, observed=rng.poisson(2.0, n))
    elif family == "negbinomial":
        bb.NegativeBinomial("y", log_mu=eta, phi=bb.HalfNormal("phi", 5), observed=rng.poisson(3.0, n))
    else:
        bb.Normal("y", eta, bb.HalfNormal("s", 1), observed=rng.normal(size=n))


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
        _likelihood(family, eta, rng, n)
    return m


FAMILIES = ["bernoulli", "binomial", "poisson", "normal", "negbinomial"]
CHUNKED = 2 * 8192 + 700  # three row chunks: the path that row threads split


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [5, 1024, 3001, CHUNKED])   # under, at and across row blocks and row chunks
def test_fused_equals_unfused(family, n, monkeypatch):
    fused = _model(family, n, seed=n, with_dense=(n == 5))
    assert ops.GLM in fused.compiled.compiler.emitted
    _assert_equals_unfused(fused, lambda: _model(family, n, seed=n, with_dense=(n == 5)), monkeypatch)


def _assert_equals_unfused(fused, build, monkeypatch):
    """The fused model's logp and gradient at 3 points equal those of build() compiled without the GLM op."""
    monkeypatch.setattr(Compiler, "glm", lambda self, *a, **k: False)
    plain = build()
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


@pytest.mark.parametrize("family", FAMILIES)
def test_row_threads_give_identical_results(family):
    # chunks keep their own partial sums and are reduced in chunk order: bitwise equal on any thread count
    _assert_same_bits_on_row_threads(_model(family, CHUNKED, seed=7, with_dense=True), (2, 3, 8))


def _assert_same_bits_on_row_threads(m, threads):
    x = 0.3 * np.random.default_rng(1).normal(size=m.dim)
    prog = m.compiled.program
    lp1, g1 = prog.logp_and_grad(x, row_threads=1)
    for t in threads:
        lpt, gt = prog.logp_and_grad(x, row_threads=t)
        assert lpt == lp1
        assert np.array_equal(gt, g1)


def test_threads_per_chain_gives_identical_draws():
    m = _model("bernoulli", CHUNKED, seed=3)
    kw = dict(draws=30, tune=30, chains=2, seed=11, progressbar=False)  # short: only equality matters
    a = bb.sample(m, threads_per_chain=1, **kw)
    b = bb.sample(m, threads_per_chain=2, **kw)
    for name in ("a", "b", "u", "v"):
        np.testing.assert_array_equal(a.posterior[name], b.posterior[name])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, 5000])
def test_threads_per_chain_is_validated(bad):
    m = _model("poisson", 20, seed=0)
    with pytest.raises(ValueError, match="threads_per_chain"):
        bb.sample(m, draws=5, tune=5, chains=1, progressbar=False, threads_per_chain=bad)
    with pytest.raises(ValueError, match="row_threads"):
        m.compiled.program.logp_and_grad(np.zeros(m.dim), row_threads=0)


# ---- scaled dense terms: sigma * (c1 * u + c2 * w) distributed into the fused op as (sigma c1) u + (sigma c2) w ----
def _scaled_model(family, n, seed, data_col=False, const_scale=False):
    """BYM2's convolved effect in its GLM as Stan writes it: sigma * (sqrt(rho / s) * u + sqrt(1 - rho) * w)."""
    rng = np.random.default_rng(seed)
    x, w_col = rng.normal(size=n), rng.uniform(0.5, 2.0, n)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1)
        b = bb.Normal("b", 0, 1)
        sigma = bb.HalfNormal("sigma", 1)
        rho = bb.Beta("rho", 2, 2)
        u = bb.Normal("u", 0, 1, shape=n)
        w = bb.Normal("w", 0, 1, shape=n)
        conv = bb.math.sqrt(rho / 0.7) * u + bb.math.sqrt(1 - rho) * w
        eta = a + b * x + (2.0 if const_scale else sigma) * conv
        if data_col:
            eta = eta + sigma * (w_col * bb.Normal("e", 0, 1, shape=n))
        _likelihood(family, eta, rng, n)
    return m


def _glm_record(m):
    (rec,) = [r for r in m.compiled.compiler.records if r["code"] == ops.GLM]
    return rec


def _full_size_ops(m, n):
    """Ops other than densities that compute n values (the products and sums the fused op should absorb)."""
    sizes = {r["out"]: m.compiled.program.slot_size(r["out"]) for r in m.compiled.compiler.records if r["out"] >= 0}
    return [r["code"] for r in m.compiled.compiler.records if r["out"] >= 0 and sizes[r["out"]] == n
            and r["code"] < 300]


@pytest.mark.parametrize("data_col", [False, True])
def test_scaled_sums_are_distributed_into_the_glm(data_col):
    n = 50
    m = _scaled_model("poisson", n, 1, data_col=data_col)
    kinds = _glm_record(m)["ip"][4::4]
    assert kinds.count(3) == (3 if data_col else 2), kinds
    assert _full_size_ops(m, n) == []   # before: mul, mul, add, mul (and mul, mul for the data column)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [5, 1024, CHUNKED])
def test_scaled_terms_equal_unfused(family, n, monkeypatch):
    fused = _scaled_model(family, n, seed=n, data_col=(n == 5))
    assert 3 in _glm_record(fused)["ip"][4::4]
    _assert_equals_unfused(fused, lambda: _scaled_model(family, n, seed=n, data_col=(n == 5)), monkeypatch)


@settings(max_examples=15, deadline=None)
@given(family=st.sampled_from(FAMILIES), seed=st.integers(0, 10_000), data_col=st.booleans(),
       const_scale=st.booleans())
def test_scaled_terms_gradient_matches_finite_differences(family, seed, data_col, const_scale):
    # assert_grad also checks the batch executor's lanes bit for bit and the device kernels to 1e-10
    m = _scaled_model(family, 30, seed, data_col=data_col, const_scale=const_scale)
    assert_grad(m, 0.5 * np.random.default_rng(seed).normal(size=m.dim))


def test_scaled_terms_in_row_chunks_are_identical_on_any_thread_count():
    _assert_same_bits_on_row_threads(_scaled_model("normal", CHUNKED, seed=3, data_col=True), (2, 3))


def test_a_sum_with_a_gather_inside_is_not_distributed():
    # sigma * (u[g] + w): distributing would turn the gather into a full-size product; the sum is computed
    # (one LinearPredictor) and the fused op scales it, one scaled term
    rng = np.random.default_rng(2)
    g = rng.integers(0, 4, 20)
    with bb.Model() as m:
        sigma = bb.HalfNormal("sigma", 1)
        u = bb.Normal("u", 0, 1, shape=4)
        w = bb.Normal("w", 0, 1, shape=20)
        bb.Poisson("y", log_mu=bb.Normal("a", 0, 1) + sigma * (u[g] + w), observed=rng.poisson(2.0, 20))
    assert _glm_record(m)["ip"][4::4] == [1, 3]
    assert _full_size_ops(m, 20) == [ops.LINEAR_PREDICTOR]
    assert_grad(m, 0.4 * rng.normal(size=m.dim))


def test_scaled_terms_in_a_linear_predictor_outside_a_glm():
    # a Student-t likelihood is no GLM family: its mean a + u[g] + sigma * (c * w) is one LinearPredictor op
    rng = np.random.default_rng(4)
    g = rng.integers(0, 5, 30)
    with bb.Model() as m:
        sigma = bb.HalfNormal("sigma", 1)
        u = bb.Normal("u", 0, 1, shape=5)
        w = bb.Normal("w", 0, 1, shape=30)
        mu = bb.Normal("a", 0, 1) + u[g] + sigma * (0.5 * w)
        bb.StudentT("y", 4, mu, 1.0, observed=rng.normal(size=30))
    (rec,) = [r for r in m.compiled.compiler.records if r["code"] == ops.LINEAR_PREDICTOR]
    assert 3 in rec["ip"][0::4]
    assert_grad(m, 0.4 * rng.normal(size=m.dim))


def test_distributing_never_costs_the_fusion():
    # 40 summands, one a scalar times a sum of 30 scaled vectors: distributed that is 69 terms, over the
    # fused op's 64, so the sum stays one dense term and the likelihood is still fused
    rng = np.random.default_rng(9)
    n = 12
    with bb.Model() as m:
        s = bb.HalfNormal("s", 1)
        vs = [bb.Normal(f"v{k}", 0, 1, shape=n) for k in range(30)]
        cs = [bb.Normal(f"c{k}", 0, 1) for k in range(39)]
        inner = vs[0] * 0.5
        for v in vs[1:]:
            inner = inner + 0.5 * v
        eta = s * inner
        for c in cs:
            eta = eta + c
        bb.Poisson("y", log_mu=eta, observed=rng.poisson(2.0, n))
    rec = _glm_record(m)
    assert len(rec["ip"][4::4]) == 40 and rec["ip"][4::4].count(3) == 1
    assert_grad(m, 0.2 * rng.normal(size=m.dim))


def _narrow_model(family, n, seed):
    """Row data of every storage: group indices that fit 8, 16 and only 32 bits, a 0/1 column and a
    group-level covariate repeated over rows (coded to one byte), a continuous column (kept as is)."""
    rng = np.random.default_rng(seed)
    g8, g16, g32 = rng.integers(0, 7, n), rng.integers(0, 1000, n), rng.integers(0, 70_000, n)
    g8b, g16b = rng.integers(0, 3, n), rng.integers(0, 300, n)
    female = rng.integers(0, 2, n).astype(float)
    zs = rng.normal(size=40)[rng.integers(0, 40, n)]
    x = rng.normal(size=n)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1)
        b = bb.Normal("b", 0, 1, shape=3)
        u8, u16 = bb.Normal("u8", 0, 1, shape=7), bb.Normal("u16", 0, 1, shape=1000)
        u32 = bb.Normal("u32", 0, 0.1, shape=70_000)
        w8, w16 = bb.Normal("w8", 0, 1, shape=3), bb.Normal("w16", 0, 1, shape=300)
        eta = (a + b[0] * female + b[1] * zs + b[2] * x + u8[g8] + w8[g8b] + female * u16[g16] + u32[g32]
               + u16[g16] + w16[g16b])   # pairs of plain 8- and 16-bit gathers: their adjoints in one pass
        _likelihood(family, eta, rng, n)
    return m


@pytest.mark.parametrize("family", FAMILIES)
def test_narrow_row_storage_reads_the_same_numbers(family, monkeypatch):
    """Indices in 8/16 bits and columns of few values as one-byte codes (csrc/ir/narrow.hpp): the scalar
    executor reads them, the lane executor reads the int32 / float64 originals; same bits, on any number
    of row threads, and the same density as the unfused ops."""
    m = _narrow_model(family, CHUNKED, seed=11)
    prog, rec = m.compiled.program, _glm_record(m)
    bits = sorted(prog.index_bits(i) for i in set(rec["idx"]))
    assert bits == [8, 8, 16, 16, 32]
    coded = sum(prog.coded_values(s) > 0 for s in rec["inputs"])
    assert coded >= 2 + (family in ("bernoulli", "binomial"))   # 0/1 column, covariate, 0/1 response
    assert "narrow indices" in str(m.explain())
    x = 0.3 * np.random.default_rng(2).normal(size=m.dim)
    lp, g = m.logp_and_grad(x)
    lpb, gb = m.logp_and_grad_batch(np.stack([x, 0.5 * x]))
    assert lp == lpb[0] and np.array_equal(g, gb[0])
    _assert_same_bits_on_row_threads(m, (2, 3))
    _assert_equals_unfused(m, lambda: _narrow_model(family, CHUNKED, seed=11), monkeypatch)


def test_model_logp_uses_every_core_on_row_chunks_with_the_same_bits(monkeypatch):
    """model.logp_and_grad splits a chunked likelihood over the process's cores by default (row threads
    change no bit); a small model keeps one thread."""
    from brr_bayes import _backend
    monkeypatch.setattr(_backend, "default_cores", lambda: 3)
    big, small = _model("bernoulli", CHUNKED, seed=4), _model("bernoulli", 500, seed=4)
    x = 0.3 * np.random.default_rng(0).normal(size=big.dim)
    lp, g = big.logp_and_grad(x)
    assert big.compiled._point().row_threads == 3
    lp1, g1 = big.compiled.program.logp_and_grad(x, row_threads=1)
    assert lp == lp1 and np.array_equal(g, g1)
    small.logp_and_grad(np.zeros(small.dim))
    assert small.compiled._point().row_threads == 1
