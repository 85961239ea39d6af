"""Bernoulli/Binomial rows with repeated predictors collapse exactly into binomial cells."""
import numpy as np
from scipy import stats

import brr_bayes as bb
from brr_bayes.workloads import make_w2, mrp_logit
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
