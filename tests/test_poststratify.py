"""Poststratification: exact against a direct computation, chunk-invariant, recovers the simulated truth."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import brr_bayes as bb

S, A = 20, 4


@pytest.fixture(scope="module")
def sim():
    """A population table of state x age cells with known cell probabilities, and a survey drawn from it."""
    rng = np.random.default_rng(3)
    a_s, a_a, b_x = 0.5 * rng.normal(size=S), 0.4 * rng.normal(size=A), 0.6
    si, ai = np.repeat(np.arange(S), A), np.tile(np.arange(A), S)
    pop = pd.DataFrame({"state": [f"S{s:02d}" for s in si], "age": [f"A{a}" for a in ai],
                        "x": np.tile(np.linspace(-1, 1, A), S), "n": rng.integers(100, 1000, S * A)})
    p = expit(-0.2 + a_s[si] + a_a[ai] + b_x * pop["x"].to_numpy())
    truth = pd.Series(p * pop["n"]).groupby(pop["state"]).sum() / pop.groupby("state")["n"].sum()
    rows = rng.choice(len(pop), 3000, p=pop["n"] / pop["n"].sum())
    survey = pop.iloc[rows][["state", "age", "x"]].reset_index(drop=True)
    survey["y"] = (rng.random(len(rows)) < p[rows]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bb.glm("y ~ 1 + x + (1 | state) + (1 | age)", survey, family="bernoulli", draws=500, tune=500,
                     chains=2, seed=2, progressbar=False)
    return pop, truth, fit


def test_matches_direct_computation(sim):
    pop, _, fit = sim
    est = bb.poststratify(fit, pop, weights="n", by="state")
    post = {k: np.asarray(v).reshape((-1,) + np.shape(v)[2:]) for k, v in fit.result.posterior.items()}
    s_idx = pd.Categorical(pop["state"]).codes
    a_idx = pd.Categorical(pop["age"]).codes
    eta = (post["Intercept"][:, None] + post["b"][:, [0]] * pop["x"].to_numpy() + post["r_state"][:, s_idx]
           + post["r_age"][:, a_idx])
    w = pop["n"].to_numpy()
    direct = np.stack([(expit(eta[:, s_idx == s]) * w[s_idx == s]).sum(1) / w[s_idx == s].sum() for s in range(S)], 1)
    np.testing.assert_allclose(est.draws.values.reshape(-1, S), direct, rtol=1e-12)
    assert list(est.draws.coords["state"].values) == [f"S{s:02d}" for s in range(S)]


def test_chunking_does_not_change_the_answer(sim):
    pop, _, fit = sim
    a = bb.poststratify(fit, pop, weights="n", by=["state", "age"])
    b = bb.poststratify(fit, pop, weights="n", by=["state", "age"], chunk_size=7)
    np.testing.assert_allclose(a.draws.values, b.draws.values, rtol=1e-13)
    assert list(a.summary().columns[:2]) == ["state", "age"] and len(a.summary()) == S * A
    overall = bb.poststratify(fit, pop, weights=pop["n"].to_numpy())
    assert overall.draws.shape == (2, 500, 1)


def test_recovers_simulated_truth(sim):
    pop, truth, fit = sim
    s = bb.poststratify(fit, pop, weights="n", by="state").summary(prob=0.9)
    covered = ((s["q5"] <= truth.to_numpy()) & (truth.to_numpy() <= s["q95"])).sum()
    # nominal 90% over 20 states: P(Binomial(20, 0.9) < 14) = 0.002
    assert covered >= 14, s.assign(truth=truth.to_numpy())
    assert np.corrcoef(s["mean"], truth)[0, 1] > 0.9


def test_unseen_levels_draw_from_the_prior_with_a_warning(sim):
    pop, _, fit = sim
    new = pd.DataFrame({"state": ["ZZ", "ZZ"], "age": ["A0", "A1"], "x": [-1.0, -1 / 3], "n": [300, 400]})
    with pytest.warns(UserWarning, match=r"levels not seen in the survey.*state: \['ZZ'\]"):
        est = bb.poststratify(fit, pd.concat([pop, new]), weights="n", by="state", seed=5)
    s = est.summary().set_index("state")
    assert s.loc["ZZ", "sd"] > 1.3 * s.drop("ZZ")["sd"].max()   # the prior's spread, not a seen state's
    assert est.unseen == {"state": ["ZZ"]}


def test_bad_tables(sim):
    pop, _, fit = sim
    bad = pop.copy()
    bad.loc[3, "n"] = -1
    with pytest.raises(ValueError, match="weights column 'n' must be finite and >= 0"):
        bb.poststratify(fit, bad, weights="n")
    bad.loc[3, "n"] = np.nan
    with pytest.raises(ValueError, match="weights column 'n' has 1 missing values"):
        bb.poststratify(fit, bad, weights="n")
    with pytest.raises(ValueError, match="weights column 'pop' is not in"):
        bb.poststratify(fit, pop, weights="pop")
    with pytest.raises(ValueError, match="grouping column 'age' is not in the poststratification table"):
        bb.poststratify(fit, pop.drop(columns="age"), weights="n")
    nan_state = pop.copy()
    nan_state.loc[0, "state"] = None
    with pytest.raises(ValueError, match="grouping column 'state' in the poststratification table has 1 missing"):
        bb.poststratify(fit, nan_state, weights="n")
    with pytest.raises(ValueError, match="by column 'region' is not in"):
        bb.poststratify(fit, pop, weights="n", by="region")


def test_unseen_fixed_effect_level_is_an_error():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"f": rng.choice(["a", "b"], 100), "g": rng.choice(["u", "v"], 100)})
    df["y"] = rng.integers(0, 2, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bb.glm("y ~ 1 + f + (1 | g)", df, family="bernoulli", draws=50, tune=50, chains=1, seed=1,
                     progressbar=False)
    table = pd.DataFrame({"f": ["a", "c"], "g": ["u", "v"], "n": [10, 20]})
    with pytest.raises(ValueError, match="fixed-effect factor that the survey never saw"):
        bb.poststratify(fit, table, weights="n")


def test_census_levels_written_as_text_or_numbers_match_the_survey(sim):
    pop, _, fit = sim
    # the survey's numeric predictor x read back as text (a CSV census), and state labels exact
    as_text = pop.assign(x=pop["x"].map(repr))
    a = bb.poststratify(fit, pop, weights="n", by="state")
    b = bb.poststratify(fit, as_text, weights="n", by="state")
    np.testing.assert_array_equal(a.draws.values, b.draws.values)


def test_integer_levels_match_a_census_of_strings():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"state": rng.integers(1, 4, 300)})
    df["y"] = (rng.random(300) < 0.3 + 0.1 * df["state"]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bb.glm("y ~ 1 + (1 | state)", df, family="bernoulli", draws=100, tune=100, chains=1, seed=1,
                     progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)   # no 'unseen level' warning may fire
        numbers = bb.poststratify(fit, pd.DataFrame({"state": [1, 2, 3], "n": [5, 5, 5]}), "n", by="state")
        text = bb.poststratify(fit, pd.DataFrame({"state": ["1", "2", "3"], "n": [5, 5, 5]}), "n", by="state")
    assert not text.unseen
    np.testing.assert_array_equal(numbers.draws.values, text.draws.values)


def test_hand_built_model_poststratifies_its_cell_predictions():
    rng = np.random.default_rng(6)
    S = 5
    state = rng.integers(0, S, 400)
    y = (rng.random(400) < 0.2 + 0.1 * state).astype(int)
    cells = pd.DataFrame({"state": np.repeat(np.arange(S), 2), "old": np.tile([0, 1], S), "n": rng.integers(1, 9, 2 * S)})
    with bb.Model() as m:
        alpha = bb.Normal("alpha", 0, 2)
        a = bb.RandomEffect("a", np.arange(S), bb.HalfNormal("sd", 1))
        bb.Bernoulli("y", logit_p=alpha + a[state], observed=y)
        bb.Deterministic("p_cell", bb.math.inv_logit(alpha + a[cells["state"].to_numpy()]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=100, tune=100, chains=2, seed=1, progressbar=False)
    est = bb.poststratify(res, cells, "n", by="state", prediction="p_cell")
    p = res.posterior["p_cell"]
    w = cells["n"].to_numpy()
    for s in range(S):
        rows = np.flatnonzero(cells["state"].to_numpy() == s)
        np.testing.assert_allclose(est.draws.values[..., s], (p[..., rows] * w[rows]).sum(-1) / w[rows].sum(),
                                   rtol=1e-12)
    with pytest.raises(ValueError, match=r"prediction 'p_cell' has shape \(10,\) per draw but the table has 3 rows"):
        bb.poststratify(res, cells.head(3), "n", prediction="p_cell")
