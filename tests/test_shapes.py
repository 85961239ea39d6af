"""Shapes of observed data and arguments, at random, for every distribution: either the model builds and its
log density evaluates, or building it raises an error that names the variable. Never numpy's broadcast
message at sampling time and never an internal ProgramError (both were what users got before)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brr_bayes as bb

SHAPES = [(), (1,), (3,), (4,), (3, 1), (1, 3), (2, 3), (3, 3), (4, 3)]
K = 3   # categories / event size of the multivariate distributions


def _arg(draw, kind, shape, name):
    """An argument of the given shape: data, or a parameter expression (a free variable of that shape)."""
    as_param = draw(st.booleans())
    if kind == "real":
        return bb.Normal(f"p_{name}", 0, 1, shape=shape or None) if as_param else np.full(shape, 0.3)
    if kind == "positive":
        return bb.HalfNormal(f"p_{name}", 1, shape=shape or None) if as_param else np.full(shape, 1.7)
    if kind == "trials":
        return np.full(shape, 5)
    raise AssertionError(kind)


def _observed(kind, shape):
    return {"real": np.full(shape, 0.4), "positive": np.full(shape, 1.3), "unit": np.full(shape, 0.4),
            "binary": np.ones(shape, dtype=int), "count": np.full(shape, 2, dtype=int),
            "category": np.ones(shape, dtype=int), "counts_k": np.tile([2, 2, 1], shape[:-1] + (1,))
            if shape and shape[-1] == K else np.full(shape, 1, dtype=int),
            "simplex": np.full(shape, 1.0 / shape[-1]) if shape else np.array(1.0)}[kind]


# name: (constructor, [(argument, kind)], kind of observed value)
DISTS = {
    "Normal": (bb.Normal, [("mu", "real"), ("sigma", "positive")], "real"),
    "StudentT": (bb.StudentT, [("nu", "positive"), ("mu", "real"), ("sigma", "positive")], "real"),
    "Cauchy": (bb.Cauchy, [("alpha", "real"), ("beta", "positive")], "real"),
    "Laplace": (bb.Laplace, [("mu", "real"), ("b", "positive")], "real"),
    "LogNormal": (bb.LogNormal, [("mu", "real"), ("sigma", "positive")], "positive"),
    "Gamma": (bb.Gamma, [("alpha", "positive"), ("beta", "positive")], "positive"),
    "InverseGamma": (bb.InverseGamma, [("alpha", "positive"), ("beta", "positive")], "positive"),
    "Exponential": (bb.Exponential, [("lam", "positive")], "positive"),
    "Beta": (bb.Beta, [("alpha", "positive"), ("beta", "positive")], "unit"),
    "HalfNormal": (bb.HalfNormal, [("sigma", "positive")], "positive"),
    "HalfCauchy": (bb.HalfCauchy, [("beta", "positive")], "positive"),
    "HalfStudentT": (bb.HalfStudentT, [("nu", "positive"), ("sigma", "positive")], "positive"),
    "Bernoulli": (bb.Bernoulli, [("logit_p", "real")], "binary"),
    "Binomial": (bb.Binomial, [("n", "trials"), ("logit_p", "real")], "count"),
    "Poisson": (bb.Poisson, [("log_mu", "real")], "count"),
    "NegativeBinomial": (bb.NegativeBinomial, [("phi", "positive"), ("log_mu", "real")], "count"),
    "Categorical": (bb.Categorical, [("logits", "real")], "category"),
    "OrderedLogistic": (bb.OrderedLogistic, [("eta", "real")], "category"),
    "Multinomial": (bb.Multinomial, [("n", "trials"), ("logits", "real")], "counts_k"),
    "Dirichlet": (bb.Dirichlet, [("a", "positive")], "simplex"),
    "MvNormal": (bb.MvNormal, [("mu", "real")], "real"),
}


@st.composite
def cases(draw):
    name = draw(st.sampled_from(sorted(DISTS)))
    make, args, obs_kind = DISTS[name]
    obs_shape = draw(st.sampled_from(SHAPES))
    if (obs_kind in ("counts_k", "simplex") or name == "MvNormal") and draw(st.booleans()):
        obs_shape = obs_shape[:-1] + (K,) if obs_shape else (K,)
    arg_shapes = {a: draw(st.sampled_from(SHAPES)) for a, _ in args}
    if name in ("Categorical", "Multinomial") and draw(st.booleans()):
        arg_shapes["logits"] = arg_shapes["logits"][:-1] + (K,) if arg_shapes["logits"] else (K,)
    if name == "Multinomial":
        arg_shapes["n"] = arg_shapes["n"][:-1] if arg_shapes["n"] else ()
    return name, obs_shape, arg_shapes, draw(st.data())


@settings(max_examples=300, deadline=None)
@given(cases())
def test_any_shapes_build_and_evaluate_or_fail_naming_the_variable(case):
    name, obs_shape, arg_shapes, data = case
    make, args, obs_kind = DISTS[name]
    try:
        with bb.Model() as m:
            kw = {a: _arg(data.draw, kind, arg_shapes[a], a) for a, kind in args}
            if name == "OrderedLogistic":
                kw["cutpoints"] = np.array([-1.0, 1.0])
            if name == "MvNormal":
                kw["cov"] = np.eye(K)
            make("y", **kw, observed=_observed(obs_kind, obs_shape))
            if m.dim == 0:
                bb.Normal("anchor", 0, 1)
    except (ValueError, TypeError) as err:
        msg = str(err)
        assert "'y'" in msg or "p_" in msg, msg   # names the variable (or the parameter it was given)
        assert "could not be broadcast" not in msg and "ProgramError" not in type(err).__name__, msg
        return
    lp, grad = m.logp_and_grad(np.zeros(m.dim))
    assert np.shape(grad) == (m.dim,)


@pytest.mark.parametrize("shape", [-3, 0, (2, 0), 1.5, (3, -1)])
def test_shapes_with_no_elements_or_negative_sizes_are_refused(shape):
    with bb.Model():
        with pytest.raises(ValueError, match=r"Normal 'x': shape must hold whole sizes >= 1"):
            bb.Normal("x", 0, 1, shape=shape)
