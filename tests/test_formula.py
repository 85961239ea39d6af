"""Formula interface: parsing, model equivalence with hand-built models, and bad-input errors."""
import numpy as np
import pandas as pd
import pytest

import brr_bayes as bb
from brr_bayes.formula import FormulaError, parse_formula
from workloads.data import W2_BLOCKS, make_w2
from workloads.models import mrp_logit


def grad_by_name(model, g):
    """{name: gradient block} from a flat gradient, using the model's own layout."""
    return {rv.name: g[off:off + n] for rv, (off, n) in model.compiled.layout.items()}


def assert_same_density(hand, formula_model, vals_hand, vals_formula, names):
    """Same logp and the same gradient for each (hand name, formula name) pair of parameters."""
    xh, xf = hand.unconstrain(vals_hand), formula_model.unconstrain(vals_formula)
    lh, gh = hand.logp_and_grad(xh)
    lf, gf = formula_model.logp_and_grad(xf)
    assert lf == pytest.approx(lh, rel=1e-10, abs=1e-9)
    gh, gf = grad_by_name(hand, gh), grad_by_name(formula_model, gf)
    for h, f in names.items():
        np.testing.assert_allclose(np.concatenate([gf[k] for k in np.atleast_1d(f)]), gh[h], rtol=1e-8, atol=1e-9)


# ---------------------------------------------------------------------------------------- parsing
def test_parse_terms():
    p = parse_formula("y | trials(n) ~ 1 + x + C(f) + (1 | g) + (1 + x || h) + (1 | a:b) + (1 | s/c) + offset(o)")
    assert p.response.text == "y" and p.trials.text == "n"
    assert [t.text for t in p.fixed] == ["1", "x", "C(f)"]
    assert [t.text for t in p.offsets] == ["o"]
    assert [(g.label, g.inner.text, g.correlated) for g in p.groups] == [
        ("g", "1", True), ("h", "1 + x", False), ("a:b", "1", True), ("s", "1", True), ("s:c", "1", True)]


@pytest.mark.parametrize("formula, pos, fragment", [
    ("y ~ 1 + (1 | g", 8, "unclosed '('"),
    ("y ~ 1 + x)", 9, "unmatched ')'"),
    ("y ~ 1 + + x", 8, "empty term"),
    ("y 1 + x", 7, "exactly one '~'"),
    ("y ~ 1 + x | g", 10, "'|' belongs inside"),
    ("y ~ 1 + ( | g)", 10, "needs effects before '|'"),
    ("y ~ 1 + (1 | g h)", 13, "not a column name"),
    ("y | n ~ x", 3, "trials(column)"),
    ("y ~ 1 + x +", 10, "empty term"),
])
def test_syntax_errors_point_at_the_problem(formula, pos, fragment):
    with pytest.raises(FormulaError) as info:
        parse_formula(formula)
    assert info.value.pos == pos
    assert fragment in str(info.value)
    caret_line = str(info.value).splitlines()[-1]
    assert caret_line.index("^") - 4 == pos


# ---------------------------------------------------------------------------------------- equivalence
W2_FORMULA = ("y ~ 1 + z1 + z2 + z3 + female + (1|state) + (1|age) + (1|race) + (1|edu) + (1|region) "
              "+ (1|state:race) + (1|age:edu)")
W2_PRIORS = {"Intercept": bb.Normal.dist(0, 2.5), "b": bb.Normal.dist(0, 1), "sd": bb.HalfNormal.dist(1)}


def w2_frame(d):
    df = pd.DataFrame({k: d[k] for k in ["y", "state", "age", "race", "edu", "female", "region"]})
    for k in range(3):
        df[f"z{k + 1}"] = d["Z"][d["state"], k]
    return df


@pytest.fixture(scope="module")
def w2():
    return make_w2(100_000)


def test_formula_w2_matches_hand_built_model(w2):
    f = bb.GLM(W2_FORMULA, w2_frame(w2), family="bernoulli", priors=W2_PRIORS)
    h = mrp_logit(w2)
    assert f.model.dim == h.dim == 311  # every state:race and age:edu combination occurs at 100k rows
    rng = np.random.default_rng(0)
    for _ in range(3):
        vh = {"alpha": rng.normal(), "beta": rng.normal(size=3), "b_female": rng.normal()}
        vf = {"Intercept": vh["alpha"], "b": np.r_[vh["beta"], vh["b_female"]]}
        names = {"alpha": "Intercept", "beta": None, "b_female": None}
        for name, L, _ in W2_BLOCKS:
            key = {"state_race": "state:race", "age_edu": "age:edu"}.get(name, name)
            vh[f"sigma_{name}"] = vf[f"sd_{key}"] = rng.uniform(0.1, 2)
            vh[f"z_{name}"] = vf[f"z_{key}"] = rng.normal(size=L)
            names[f"sigma_{name}"], names[f"z_{name}"] = f"sd_{key}", f"z_{key}"
        names.pop("beta"), names.pop("b_female")
        assert_same_density(h, f.model, vh, vf, names)
        gf = grad_by_name(f.model, f.model.logp_and_grad(f.model.unconstrain(vf))[1])["b"]
        gh = grad_by_name(h, h.logp_and_grad(h.unconstrain(vh))[1])
        np.testing.assert_allclose(gf, np.r_[gh["beta"], gh["b_female"]], rtol=1e-8)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(7)
    n = 300
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c", "d", "e"], n), "h": rng.choice(["u", "v", "w"], n),
                       "x": rng.normal(size=n), "expo": rng.uniform(0.5, 2, n)})
    df["count"] = rng.poisson(2.0, n)
    df["trials"] = rng.integers(1, 9, n)
    df["succ"] = rng.binomial(df["trials"], 0.4)
    df["cont"] = rng.normal(1.0, 2.0, n)
    return df


def _codes(col):
    cat = pd.Categorical(col)
    return cat.codes.astype(np.int64), len(cat.categories)


@pytest.mark.parametrize("family", ["poisson", "negbinomial", "binomial", "gaussian", "student"])
def test_families_and_offsets_match_hand_built(small, family):
    df = small
    resp = {"poisson": "count", "negbinomial": "count", "binomial": "succ"}.get(family, "cont")
    lhs = f"{resp} | trials(trials)" if family == "binomial" else resp
    off = " + offset(expo)" if family in ("poisson", "negbinomial") else ""
    pri = {"Intercept": bb.Normal.dist(0.5, 2), "b": bb.Normal.dist(0, 1.5), "sd": bb.HalfNormal.dist(0.7),
           "sigma": bb.HalfNormal.dist(3), "nu": bb.Gamma.dist(2, 0.1), "phi": bb.Gamma.dist(2, 0.1)}
    pri = {k: v for k, v in pri.items() if k not in ("sigma", "nu", "phi") or k in bb.formula.FAMILIES[family].aux}
    f = bb.GLM(f"{lhs} ~ 1 + x + (1 | g) + (1 | g:h){off}", df, family=family, priors=pri)
    g, G = _codes(df["g"])
    gh_levels, gh = np.unique(np.stack([g, _codes(df["h"])[0]], 1), axis=0, return_inverse=True)
    gh = gh.ravel()
    with bb.Model() as h:
        a = bb.Normal("a", 0.5, 2)
        b = bb.Normal("bx", 0, 1.5)
        s1, s2 = bb.HalfNormal("s1", 0.7), bb.HalfNormal("s2", 0.7)
        z1, z2 = bb.Normal("z1", 0, 1, shape=G), bb.Normal("z2", 0, 1, shape=len(gh_levels))
        eta = a + b * df["x"].to_numpy() + (s1 * z1)[g] + (s2 * z2)[gh]
        if off:
            eta = eta + df["expo"].to_numpy()
        if family == "poisson":
            bb.Poisson("y", log_mu=eta, observed=df["count"])
        elif family == "negbinomial":
            bb.NegativeBinomial("y", log_mu=eta, phi=bb.Gamma("phi", 2, 0.1), observed=df["count"])
        elif family == "binomial":
            bb.Binomial("y", df["trials"].to_numpy(), logit_p=eta, observed=df["succ"])
        elif family == "gaussian":
            bb.Normal("y", eta, bb.HalfNormal("sigma", 3), observed=df["cont"])
        else:
            bb.StudentT("y", bb.Gamma("nu", 2, 0.1), eta, bb.HalfNormal("sigma", 3), observed=df["cont"])
    rng = np.random.default_rng(1)
    vh = {"a": 0.2, "bx": -0.4, "s1": 0.8, "s2": 0.3, "z1": rng.normal(size=G), "z2": rng.normal(size=len(gh_levels)),
          "phi": 3.0, "sigma": 1.7, "nu": 6.0}
    vf = {"Intercept": 0.2, "b": [-0.4], "sd_g": 0.8, "sd_g:h": 0.3, "z_g": vh["z1"], "z_g:h": vh["z2"],
          "phi": 3.0, "sigma": 1.7, "nu": 6.0}
    names = {"a": "Intercept", "bx": "b", "s1": "sd_g", "s2": "sd_g:h", "z1": "z_g", "z2": "z_g:h"}
    names.update({k: k for k in bb.formula.FAMILIES[family].aux})
    vh = {k: v for k, v in vh.items() if k in [r.name for r in h.free_rvs]}
    vf = {k: v for k, v in vf.items() if k in f.model.param_names}
    assert_same_density(h, f.model, vh, vf, names)


def test_correlated_varying_slopes_match_hand_built(small):
    df = small
    f = bb.GLM("cont ~ 1 + x + (1 + x | g)", df, family="gaussian",
               priors={"Intercept": bb.Normal.dist(0, 3), "b": bb.Normal.dist(0, 2), "sd": bb.HalfNormal.dist(1),
                       "cor": 1.5, "sigma": bb.Exponential.dist(1)})
    g, G = _codes(df["g"])
    x = df["x"].to_numpy()
    with bb.Model() as h:
        a, b = bb.Normal("a", 0, 3), bb.Normal("bx", 0, 2)
        sd = bb.HalfNormal("sd", 1, shape=2)
        L = bb.LKJCholesky("L", 2, 1.5)
        z = bb.Normal("z", 0, 1, shape=(G, 2))
        r = (z[:, None, :] * (sd[:, None] * L)[None, :, :]).sum(axis=2)
        bb.Normal("y", a + b * x + r[g, 0] + r[g, 1] * x, bb.Exponential("sigma", 1), observed=df["cont"])
    rng = np.random.default_rng(2)
    c = 0.4
    Lv = np.array([[1.0, 0.0], [c, np.sqrt(1 - c * c)]])
    z = rng.normal(size=(G, 2))
    vh = {"a": 0.1, "bx": 0.3, "sd": [0.5, 0.9], "L": Lv, "z": z, "sigma": 1.4}
    vf = {"Intercept": 0.1, "b": [0.3], "sd_g": [0.5, 0.9], "L_g": Lv, "z_g": z, "sigma": 1.4}
    assert_same_density(h, f.model, vh, vf, {"a": "Intercept", "bx": "b", "sd": "sd_g", "L": "L_g", "z": "z_g",
                                              "sigma": "sigma"})
    draws = f.model.constrain(f.model.unconstrain(vf))["r_g"]
    np.testing.assert_allclose(draws, z @ (np.diag([0.5, 0.9]) @ Lv).T, rtol=1e-12)


def test_categorical_fixed_effects_keep_labels(small):
    f = bb.GLM("cont ~ 1 + x + h + (1 | g)", small, family="gaussian")
    assert list(f.model.coords["coef"]) == ["x", "h[T.v]", "h[T.w]"]
    assert list(f.model.coords["g"]) == ["a", "b", "c", "d", "e"]


def test_default_priors_are_overridable_per_term(small):
    f = bb.GLM("cont ~ 1 + x + h", small, family="gaussian",
               priors={"x": bb.Normal.dist(0, 0.1), "h[T.w]": bb.Normal.dist(1, 0.5)})
    b = next(rv for rv in f.model.free_rvs if rv.name == "b")
    from brr_bayes.model.expr import constant_value
    mu, sigma = constant_value(b.dist.params["mu"]), constant_value(b.dist.params["sigma"])
    np.testing.assert_allclose(mu, [0, 0, 1])
    assert sigma[0] == 0.1 and sigma[2] == 0.5
    assert sigma[1] == pytest.approx(2.5 * small["cont"].std(ddof=0) / np.std((small["h"] == "v").astype(float)))


# ---------------------------------------------------------------------------------------- bad input
def test_unknown_columns_are_named_with_a_suggestion(small):
    with pytest.raises(FormulaError, match=r"column 'xx' is not in data.*did you mean 'x'") as info:
        bb.GLM("cont ~ 1 + xx + (1 | g)", small)
    assert info.value.pos == "cont ~ 1 + xx".index("xx")
    with pytest.raises(FormulaError, match="column 'gg' is not in data") as info:
        bb.GLM("cont ~ 1 + x + (1 | gg)", small)
    assert info.value.pos == "cont ~ 1 + x + (1 | gg)".index("gg")
    with pytest.raises(FormulaError, match="column 'yy'"):
        bb.GLM("yy ~ 1 + x", small)


def test_grouping_column_with_nan_is_an_error(small):
    df = small.copy()
    df.loc[[3, 10], "g"] = np.nan
    with pytest.raises(ValueError, match=r"grouping column 'g' has 2 missing values \(rows \[3, 10\]\)"):
        bb.GLM("cont ~ 1 + (1 | g)", df)


def test_bad_data_and_priors(small):
    df = small.copy()
    df.loc[5, "x"] = np.nan
    with pytest.raises(ValueError, match="'x' in data has missing values"):
        bb.GLM("cont ~ 1 + x", df)
    with pytest.raises(ValueError, match="needs the number of trials"):
        bb.GLM("succ ~ 1 + x", small, family="binomial")
    with pytest.raises(ValueError, match="unknown family 'logitt'"):
        bb.GLM("succ ~ 1", small, family="logitt")
    with pytest.raises(ValueError, match=r"priors: unknown term 'sd_state'.*'sd_g'"):
        bb.GLM("cont ~ 1 + (1 | g)", small, priors={"sd_state": bb.HalfNormal.dist(1)})
    with pytest.raises(ValueError, match="LKJ concentration"):
        bb.GLM("cont ~ 1 + (1 + x | g)", small, priors={"cor": -1})
    with pytest.raises(ValueError, match=r"Bernoulli 'count'"):
        bb.GLM("count ~ 1 + x", small, family="bernoulli")
    with pytest.raises(ValueError, match="share one distribution family"):
        bb.GLM("cont ~ 1 + x + h", small, priors={"x": bb.StudentT.dist(3, 0, 1)})


def test_nested_and_uncorrelated_terms_and_category_order(small):
    df = small.copy()
    df["h"] = pd.Categorical(df["h"], categories=["w", "v", "u"], ordered=True)
    f = bb.GLM("cont ~ 1 + (1 | h/g) + (1 + x || g)", df)
    assert list(f.model.coords["h"]) == ["w", "v", "u"]          # the categorical's own level order
    assert f.model.coords["h:g"][0].startswith("w:")
    assert "L_g" not in f.model.param_names and f.model["sd_g"].shape == (2,)


def test_polars_frames_are_accepted(small):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({c: small[c].to_list() for c in small.columns})   # no pyarrow needed
    f = bb.GLM("cont ~ 1 + x + (1 | g)", frame)
    assert f.n_rows == len(small)
    ref = bb.GLM("cont ~ 1 + x + (1 | g)", small)
    x = np.random.default_rng(0).normal(size=f.model.dim)
    assert f.model.logp(x) == ref.model.logp(x)
    # an Enum's declared level order is the grouping's order, as a pandas ordered categorical's is
    enum = frame.with_columns(pl.Series("h", small["h"].to_list(), dtype=pl.Enum(["w", "v", "u"])))
    assert list(bb.GLM("cont ~ 1 + (1 | h)", enum).model.coords["h"]) == ["w", "v", "u"]
