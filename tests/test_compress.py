"""Likelihood rows with repeated predictors merge exactly into cells (Bernoulli/Binomial, Poisson, Normal)."""
import numpy as np
from scipy import stats

import brr_bayes as bb
from workloads import make_w2, mrp_logit
from helpers import assert_grad


def test_collapsed_bernoulli_equals_row_by_row_likelihood():
    rng = np.random.default_rng(0)
    n = 4000
    g1, g2 = rng.integers(0, 6, n), rng.integers(0, 4, n)
    female = rng.integers(0, 2, n).astype(float)
    y = rng.integers(0, 2, n)
    with bb.Model() as m:
        a = bb.Flat("a", shape=6)
        b = bb.Flat("b", shape=4)
        c = bb.Flat("c")
        bb.Bernoulli("y", logit_p=a[g1] + b[g2] + c * female, observed=y)
    x = rng.normal(size=m.dim)
    eta = x[:6][g1] + x[6:10][g2] + x[10] * female
    ref = stats.bernoulli.logpmf(y, 1 / (1 + np.exp(-eta))).sum()
    assert abs(m.logp(x) - ref) < 1e-9 * abs(ref)
    assert_grad(m, x)
    # the program holds the 48 cells, not the 4000 rows
    sizes = [m.compiled.program.slot_size(s) for s in range(m.compiled.program.num_slots)]
    assert max(sizes) == 48


def test_w2_collapses_to_its_cells_and_matches_the_hand_collapsed_model():
    d = make_w2(20000)
    rows, cells = mrp_logit(d), mrp_logit(d, collapsed=True)
    x = np.random.default_rng(1).normal(scale=0.3, size=rows.dim)
    lp_r, g_r = rows.logp_and_grad(x)
    lp_c, g_c = cells.logp_and_grad(x)
    np.testing.assert_allclose(g_r, g_c, rtol=1e-10, atol=1e-9)
    # the hand-collapsed binomial adds log C(n, y); the Bernoulli likelihood has none
    from scipy.special import gammaln
    lchoose = np.sum(gammaln(d["cell_trials"] + 1) - gammaln(d["cell_y"] + 1)
                     - gammaln(d["cell_trials"] - d["cell_y"] + 1))
    assert abs(lp_r - (lp_c - lchoose)) < 1e-8 * abs(lp_r)


def test_no_compression_when_rows_are_distinct():
    rng = np.random.default_rng(2)
    n = 500
    xcol = rng.normal(size=n)
    with bb.Model() as m:
        b = bb.Flat("b")
        bb.Bernoulli("y", logit_p=b * xcol, observed=rng.integers(0, 2, n))
    sizes = [m.compiled.program.slot_size(s) for s in range(m.compiled.program.num_slots)]
    assert max(sizes) == n


def _cells_in_program(m):
    p = m.compiled.program
    return max(p.slot_size(s) for s in range(p.num_slots))


def test_poisson_rows_with_log_exposure_merge_and_match_scipy():
    rng = np.random.default_rng(4)
    n = 3000
    g, h = rng.integers(0, 8, n), rng.integers(0, 3, n)
    exposure = rng.uniform(1.0, 30.0, n)          # distinct per row: an offset, not part of the cell key
    y = rng.poisson(5.0, n)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1, shape=8)
        b = bb.Normal("b", 0, 1, shape=3)
        bb.Poisson("y", log_mu=np.log(exposure) + a[g] + b[h], observed=y)
    x = rng.normal(scale=0.3, size=m.dim)
    ref = stats.poisson.logpmf(y, exposure * np.exp(x[:8][g] + x[8:][h])).sum()
    ref += stats.norm.logpdf(x).sum()
    assert abs(m.logp(x) - ref) < 1e-10 * abs(ref)
    assert_grad(m, x)
    assert _cells_in_program(m) == 24
    assert "3,000 rows merged into 24 cells" in str(m.explain())


def test_normal_rows_with_one_sigma_merge_into_cell_statistics():
    rng = np.random.default_rng(5)
    n = 2500
    g, floor = rng.integers(0, 20, n), rng.integers(0, 2, n).astype(float)
    y = rng.normal(size=n)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1, shape=20)
        b = bb.Normal("b", 0, 1)
        s = bb.HalfNormal("s", 1)
        bb.Normal("y", a[g] + b * floor, s, observed=y)
    x = rng.normal(scale=0.3, size=m.dim)
    sv = np.exp(x[21])
    ref = stats.norm.logpdf(y, x[:20][g] + x[20] * floor, sv).sum() + stats.norm.logpdf(x[:21]).sum()
    ref += stats.halfnorm.logpdf(sv) + x[21]
    assert abs(m.logp(x) - ref) < 1e-10 * abs(ref)
    assert_grad(m, x)
    assert _cells_in_program(m) <= 40


def test_iid_normal_data_collapse_to_one_cell():
    y = np.random.default_rng(6).normal(3.0, 2.0, 5000)
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 10)
        s = bb.HalfNormal("s", 5)
        bb.Normal("y", mu, s, observed=y)
    x = np.array([2.5, 0.4])
    ref = stats.norm.logpdf(y, 2.5, np.exp(0.4)).sum() + stats.norm.logpdf(2.5, 0, 10) \
        + stats.halfnorm.logpdf(np.exp(0.4), scale=5) + 0.4
    assert abs(m.logp(x) - ref) < 1e-10 * abs(ref)
    assert _cells_in_program(m) == 2


def test_rows_are_not_merged_when_sigma_varies_or_the_family_cannot():
    rng = np.random.default_rng(7)
    n, g = 500, rng.integers(0, 4, 500)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1, shape=4)
        bb.Normal("y", a[g], rng.uniform(1, 2, n), observed=rng.normal(size=n))     # known per-row sigma
        bb.NegativeBinomial("k", log_mu=a[g], phi=bb.HalfNormal("phi", 5), observed=rng.poisson(2, n))
    assert _cells_in_program(m) == n
