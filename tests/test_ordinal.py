"""Ordered logistic and ordered probit: densities against scipy, gradients against finite
differences (hypothesis inputs), extreme tails, per-row cutpoints, bad inputs, predictive draws and
recovery of simulated truth by sampling."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special, stats

import brr_bayes as bb
from helpers import assert_grad, rel_close

FAMILIES = {"logistic": (bb.OrderedLogistic, special.expit), "probit": (bb.OrderedProbit, special.ndtr)}


def reference_logp(cdf, y, eta, cut):
    """sum_i log(F(c[y_i] - eta_i) - F(c[y_i - 1] - eta_i)) with c[-1] = -inf, c[K-1] = +inf."""
    c = np.concatenate([[-np.inf], cut, [np.inf]])
    hi, lo = c[y + 1] - eta, c[y] - eta
    # F symmetric: in the upper tail F(hi) - F(lo) = F(-lo) - F(-hi), which does not cancel near 1
    p = np.where(lo > 0, cdf(-lo) - cdf(-hi), cdf(hi) - cdf(lo))
    return float(np.sum(np.log(p)))


def model_of(family, y, x, fixed_cut=None, K=None):
    dist, _ = FAMILIES[family]
    K = K if fixed_cut is None else len(fixed_cut) + 1
    with bb.Model() as m:
        beta = bb.Flat("beta")
        cut = bb.Flat("c", shape=K - 1, transform="ordered") if fixed_cut is None else fixed_cut
        dist("y", beta * x, cut, observed=y)
    return m


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_logp_and_gradient(family, data):
    K = data.draw(st.integers(2, 6))
    n = data.draw(st.integers(1, 12))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    y = rng.integers(0, K, n)
    x = rng.normal(size=n)
    beta = data.draw(st.floats(-3, 3))
    cut = np.sort(rng.normal(0, 2, K - 1)) + np.arange(K - 1) * 0.1
    m = model_of(family, y, x, K=K)
    point = m.unconstrain({"beta": beta, "c": cut})
    want = reference_logp(FAMILIES[family][1], y, beta * x, cut) + float(np.sum(np.log(np.diff(cut))))  # + log|J|
    assert rel_close(m.logp(point), want, 1e-10)
    assert_grad(m, point, rtol=1e-6, h=1e-5)


@pytest.mark.parametrize("family,log_cdf", [("logistic", special.log_expit), ("probit", special.log_ndtr)])
def test_tails_stay_accurate(family, log_cdf):
    # the extreme categories far out in the tails, where 1 - F cancels in a naive formula
    cut = np.array([-1.0, 0.5, 2.0])
    for eta in (-60.0, -25.0, 25.0, 60.0):
        for y, arg in ((0, cut[0] - eta), (3, eta - cut[2])):
            m = model_of(family, np.array([y]), np.array([1.0]), fixed_cut=cut)
            got = m.logp(np.array([eta]))
            assert np.isfinite(got) and rel_close(got, float(log_cdf(arg)), 1e-10), (eta, y, got, log_cdf(arg))
    # a middle category with both cutpoints in the upper tail: Phi(hi) - Phi(lo) without cancellation
    m = model_of(family, np.array([1]), np.array([1.0]), fixed_cut=np.array([9.0, 9.5, 12.0]))
    ref = {"logistic": float(np.log(special.expit(-9.0) - special.expit(-9.5))),
           "probit": float(np.log(stats.norm.sf(9.0) - stats.norm.sf(9.5)))}[family]
    assert rel_close(m.logp(np.array([0.0])), ref, 1e-9)


def test_per_row_cutpoints_equal_shared_ones():
    rng = np.random.default_rng(3)
    y, x = rng.integers(0, 4, 30), rng.normal(size=30)
    with bb.Model() as shared:
        beta = bb.Normal("beta", 0, 1)
        c = bb.Normal("c", 0, 3, shape=3, transform="ordered")
        bb.OrderedLogistic("y", beta * x, c, observed=y)
    with bb.Model() as rows:
        beta = bb.Normal("beta", 0, 1)
        c = bb.Normal("c", 0, 3, shape=3, transform="ordered")
        bb.OrderedLogistic("y", beta * x, c[None, :] + np.zeros((30, 1)), observed=y)
    p = rng.normal(size=shared.dim)
    a, b = shared.logp_and_grad(p), rows.logp_and_grad(p)
    assert rel_close(a[0], b[0], 1e-12) and np.allclose(a[1], b[1], rtol=1e-12, atol=1e-12)


def test_bad_inputs_name_the_variable_and_the_fix():
    with bb.Model():
        with pytest.raises(ValueError, match=r"OrderedLogistic 'y'.*categories must be ids in \[0, 3\].*got 4"):
            bb.OrderedLogistic("y", 0.0, np.array([-1.0, 0.0, 1.0]), observed=np.array([0, 4]))
    with bb.Model():
        with pytest.raises(ValueError, match="whole numbers"):
            bb.OrderedProbit("y", 0.0, np.array([-1.0, 1.0]), observed=np.array([0.5]))
    with bb.Model():
        with pytest.raises(ValueError, match="fixed cutpoints must increase strictly.*transform='ordered'"):
            bb.OrderedLogistic("y", 0.0, np.array([1.0, 0.0]), observed=np.array([0, 1]))
    with bb.Model():
        with pytest.raises(ValueError, match="cutpoints must have K-1 >= 1 values"):
            bb.OrderedLogistic("y", 0.0, np.zeros(0), observed=np.array([0]))
    with bb.Model():
        with pytest.raises(ValueError, match="transform='sorted' is not known"):
            bb.Normal("c", 0, 1, shape=3, transform="sorted")
    with bb.Model():
        with pytest.raises(TypeError, match="discrete variables"):
            bb.OrderedLogistic("y", 0.0, np.array([0.0, 1.0]))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_random_draws_have_the_model_probabilities(family):
    dist, cdf = FAMILIES[family]
    cut = np.array([-1.0, 0.2, 1.5])
    d = dist.dist(np.full(40_000, 0.3), cut)
    y = d.random(np.random.default_rng(5), {"eta": np.full(40_000, 0.3), "cutpoints": cut}, (40_000,))
    c = np.concatenate([[-np.inf], cut, [np.inf]])
    probs = np.diff(cdf(c - 0.3))
    counts = np.bincount(y, minlength=4)
    assert stats.chisquare(counts, probs * counts.sum()).pvalue > 1e-3
    assert stats.chisquare(np.roll(counts, 1), probs * counts.sum()).pvalue < 1e-6   # the test has power


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_sampling_recovers_the_truth(family):
    dist, cdf = FAMILIES[family]
    rng = np.random.default_rng(11)
    n, beta, cut = 2_000, 1.2, np.array([-1.0, 0.3, 1.6])
    x = rng.normal(size=n)
    noise = rng.logistic(size=n) if family == "logistic" else rng.normal(size=n)
    y = np.digitize(beta * x + noise, cut)
    with bb.Model() as m:
        b = bb.Normal("beta", 0, 5)
        c = bb.Normal("c", 0, 5, shape=3, transform="ordered")
        dist("y", b * x, c, observed=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=500, tune=500, chains=2, seed=2, progressbar=False)
    for name, truth in (("beta", beta), ("c", cut)):
        draws = res.posterior[name].reshape(-1, *np.shape(truth))
        z = (draws.mean(0) - truth) / draws.std(0)
        assert np.all(np.abs(z) < 3.5), (name, z)
    pp = bb.sample_posterior_predictive(res)["y"]
    assert pp.shape == (2, 500, n) and set(np.unique(pp)) <= {0, 1, 2, 3}
    # posterior predictive category shares match the data's
    np.testing.assert_allclose(np.bincount(pp.ravel(), minlength=4) / pp.size, np.bincount(y, minlength=4) / n,
                               atol=0.02)
    ll = bb.compute_log_likelihood(res)["y"]
    x0 = res.unconstrained[0, 0]
    prior = m.logp(x0) - ll[0, 0].sum()
    assert np.isfinite(prior) and ll.shape == (2, 500, n)


@pytest.mark.parametrize("family", ["ordered_logistic", "ordered_probit"])
def test_formula_families_equal_the_hand_written_model(family):
    import pandas as pd
    rng = np.random.default_rng(4)
    n = 400
    df = pd.DataFrame({"y": rng.integers(0, 4, n), "x": rng.normal(size=n), "g": rng.integers(0, 5, n).astype(str)})
    f = bb.GLM("y ~ 1 + x + (1 | g)", df, family=family)
    assert "Intercept" not in f.model.param_names and f.model["cutpoints"].shape == (3,)
    dist = {"ordered_logistic": bb.OrderedLogistic, "ordered_probit": bb.OrderedProbit}[family]
    codes = pd.Categorical(df["g"]).codes
    with bb.Model() as hand:
        b = bb.Normal("b", 0, 2.5 / df["x"].std(ddof=0), shape=1)
        sd = bb.HalfNormal("sd_g", 1.0)
        z = bb.Normal("z_g", 0, 1, shape=5)
        c = bb.Normal("cutpoints", 0, 5, shape=3, transform="ordered")
        dist("y", b[0] * df["x"].to_numpy() + sd * z[codes], c, observed=df["y"].to_numpy())
    x = rng.normal(size=hand.dim)
    lp, g = f.model.logp_and_grad(x)
    lp2, g2 = hand.logp_and_grad(x)
    assert rel_close(lp, lp2, 1e-10) and np.allclose(g, g2, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="must hold category ids 0..K-1"):
        bb.GLM("y ~ x", df.assign(y=df["y"] - 1), family=family)
    fit = bb.GLMFit(f, None)     # refused before any draw is read
    with pytest.raises(ValueError, match="predicts a share per category"):
        bb.poststratify(fit, df, weights=np.ones(n))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_repeated_survey_rows_are_merged_exactly(family):
    # 20,000 respondents over 60 (state, sex) cells and 4 answers: at most 240 distinct rows
    dist, _ = FAMILIES[family]
    rng = np.random.default_rng(6)
    n = 20_000
    state, fem, y = rng.integers(0, 30, n), rng.integers(0, 2, n), rng.integers(0, 4, n)

    def build(compress, x=None):
        with bb.Model(compile_options=bb.CompileOptions(compress=compress)) as m:
            sd = bb.HalfNormal("sd", 1)
            z = bb.Normal("z", 0, 1, shape=30)
            b = bb.Normal("b", 0, 1)
            c = bb.Normal("c", 0, 3, shape=3, transform="ordered")
            dist("y", sd * z[state] + b * (fem if x is None else x), c, observed=y)
        return m
    merged, plain = build(True), build(False)
    assert "20,000 rows merged into" in str(merged.explain())
    p = rng.normal(scale=0.5, size=merged.dim)
    a, b_ = merged.logp_and_grad(p), plain.logp_and_grad(p)
    assert rel_close(a[0], b_[0], 1e-12) and np.allclose(a[1], b_[1], rtol=1e-10, atol=1e-9)
    # a continuous predictor makes every row distinct: nothing merged, and explain() says why
    cont = build(True, rng.normal(size=n))
    assert "rows not merged" in str(cont.explain())
