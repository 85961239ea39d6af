"""Multinomial-logit MRP: bb.glm(family="categorical") equals the hand-written model, and its
poststratified category shares equal a direct computation from the posterior draws."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special

import brr_bayes as bb
from helpers import rel_close


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(1)
    n = 2000
    state = rng.integers(0, 6, n)
    x = rng.normal(size=n)
    a = rng.normal(0, 0.5, (6, 3))
    a[:, 0] = 0
    lg = np.stack([np.zeros(n), 0.3 + 0.8 * x + a[state, 1], -0.5 - 0.4 * x + a[state, 2]], -1)
    y = (special.softmax(lg, -1).cumsum(-1) < rng.random(n)[:, None]).sum(-1)
    return pd.DataFrame({"vote": y, "x": x, "state": [f"s{k}" for k in state]})


def test_formula_equals_the_hand_written_model(survey):
    f = bb.GLM("vote ~ 1 + x + (1 | state)", survey, family="categorical")
    assert f.model.param_names == ["Intercept_1", "b_1", "sd_state_1", "z_state_1",
                                   "Intercept_2", "b_2", "sd_state_2", "z_state_2"]
    codes = pd.Categorical(survey["state"]).codes
    x = survey["x"].to_numpy()
    with bb.Model() as hand:
        etas = []
        for k in (1, 2):
            a = bb.Normal(f"Intercept_{k}", 0, 2.5)
            b = bb.Normal(f"b_{k}", 0, 2.5 / x.std(), shape=1)
            sd = bb.HalfNormal(f"sd_state_{k}", 1)
            z = bb.Normal(f"z_state_{k}", 0, 1, shape=6)
            etas.append(a + b[0] * x + sd * z[codes])
        bb.Categorical("vote", logits=bb.math.stack([np.zeros(len(x))] + etas, axis=-1), observed=survey["vote"])
    p = np.random.default_rng(0).normal(size=hand.dim)
    lp, g = f.model.logp_and_grad(p)
    lp2, g2 = hand.logp_and_grad(p)
    assert rel_close(lp, lp2, 1e-10) and np.allclose(g, g2, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="single category"):
        bb.GLM("vote ~ x", survey.assign(vote=0), family="categorical")


def test_poststratified_shares_equal_the_draws(survey):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bb.glm("vote ~ 1 + x + (1 | state)", survey, family="categorical", draws=200, tune=200, chains=2,
                     seed=2, progressbar=False)
    census = pd.DataFrame({"state": ["s0", "s0", "s3", "s3", "s5"], "x": [-1.0, 1.0, 0.0, 2.0, 0.5],
                           "n": [100.0, 300.0, 50.0, 50.0, 10.0]})
    est = bb.poststratify(fit, census, weights="n", by="state")
    assert est.draws.dims == ("chain", "draw", "state", "category") and est.draws.shape == (2, 200, 3, 3)
    np.testing.assert_allclose(est.draws.sum("category"), 1.0, atol=1e-12)
    # the same shares straight from the draws
    post = fit.result.posterior
    lvl = {s: i for i, s in enumerate(fit.model.coords["state"])}
    cells = np.array([lvl[s] for s in census["state"]])
    etas = [np.zeros((2, 200, 5))]
    for k in (1, 2):
        etas.append(post[f"Intercept_{k}"][..., None] + post[f"b_{k}"][..., 0, None] * census["x"].to_numpy()
                    + post[f"r_state_{k}"][..., cells])
    share = special.softmax(np.stack(etas, -1), -1)                        # (chain, draw, cell, K)
    w = census["n"].to_numpy()
    for g, rows in enumerate([[0, 1], [2, 3], [4]]):
        want = (share[:, :, rows] * w[rows, None]).sum(2) / w[rows].sum()
        np.testing.assert_allclose(est.draws.values[:, :, g], want, rtol=1e-10)
    table = est.summary()
    assert list(table.columns[:2]) == ["state", "category"] and len(table) == 9
    # big groups: the shares track the survey's own
    big = bb.poststratify(fit, survey, weights=np.ones(len(survey)), by="state").draws.mean(("chain", "draw"))
    obs = survey.groupby("state")["vote"].value_counts(normalize=True).unstack().fillna(0).to_numpy()
    assert np.abs(big.values - obs).max() < 0.06


def test_repeated_rows_are_merged_exactly(survey):
    big = pd.concat([survey] * 10, ignore_index=True)          # 20,000 rows: each one ten times
    big["x"] = np.round(big["x"], 1)                             # x on a grid: rows repeat
    merged = bb.GLM("vote ~ 1 + x + (1 | state)", big, family="categorical")
    plain = bb.GLM("vote ~ 1 + x + (1 | state)", big, family="categorical")
    plain.model.compile_options = bb.CompileOptions(compress=False)     # before its first compile
    assert "rows merged into" in str(merged.model.explain())
    assert "rows merged into" not in str(plain.model.explain())
    p = np.random.default_rng(3).normal(scale=0.5, size=merged.model.dim)
    a, b = merged.model.logp_and_grad(p), plain.model.logp_and_grad(p)
    assert rel_close(a[0], b[0], 1e-12) and np.allclose(a[1], b[1], rtol=1e-10, atol=1e-9)
