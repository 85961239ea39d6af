"""Bounds that are parameters (Stan's real<lower=a, upper=b>) and positive_ordered: the log-Jacobian
checked numerically, round trips, exact posteriors by sampling, bad inputs."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate, stats

import brr_bayes as bb
from brr_bayes.model.transforms import Interval, LowerBound, UpperBound
from helpers import assert_grad, rel_close


def _model(kind):
    with bb.Model() as m:
        lo = bb.Normal("lo", 0, 1)
        tr = {"interval": Interval(lower=lo, upper=lo + 2.0), "lower": LowerBound(lo), "upper": UpperBound(lo)}[kind]
        bb.Normal("x", 0, 3, transform=tr)
    return m


@pytest.mark.parametrize("kind", ["interval", "lower", "upper"])
@settings(max_examples=25, deadline=None)
@given(lo=st.floats(-2, 2), u=st.floats(-4, 4))
def test_log_jacobian_is_the_numerical_one(kind, lo, u):
    m = _model(kind)
    point = np.array([lo, u])
    x = m.constrain(point)["x"]
    h = 1e-6
    dxdu = (m.constrain(point + [0, h])["x"] - m.constrain(point - [0, h])["x"]) / (2 * h)
    want = stats.norm.logpdf(lo, 0, 1) + stats.norm.logpdf(x, 0, 3) + np.log(abs(dxdu))
    assert rel_close(m.logp(point), float(want), 1e-7)
    inside = {"interval": lo < x < lo + 2, "lower": x > lo, "upper": x < lo}[kind]
    assert inside
    back = m.unconstrain({"lo": lo, "x": x})
    np.testing.assert_allclose(back, point, rtol=1e-8, atol=1e-8)
    assert_grad(m, point)


def test_interval_with_parameter_bounds_samples_the_exact_posterior():
    # p(lo, x) ∝ N(lo; 0, 1) N(x; 0, 3) 1{lo < x < lo + 2}: lo's marginal by quadrature
    m = _model("interval")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=1000, tune=1000, chains=4, seed=5, progressbar=False)
    lo = res.posterior["lo"].ravel()
    w = lambda a: stats.norm.pdf(a) * (stats.norm.cdf((a + 2) / 3) - stats.norm.cdf(a / 3))  # noqa: E731
    z = integrate.quad(w, -10, 10)[0]
    mean = integrate.quad(lambda a: a * w(a), -10, 10)[0] / z
    sd = np.sqrt(integrate.quad(lambda a: (a - mean) ** 2 * w(a), -10, 10)[0] / z)
    ess = float(np.ravel(bb.convergence.ess_bulk(res.posterior["lo"]))[0])
    assert abs(lo.mean() - mean) < 5 * sd / np.sqrt(ess), (lo.mean(), mean)
    x = res.posterior["x"]
    assert ((x > res.posterior["lo"]) & (x < res.posterior["lo"] + 2)).all()


def test_positive_ordered_exponentials_are_order_statistics():
    with bb.Model() as m:
        bb.Exponential("p", 1.0, shape=3, transform="positive_ordered")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=1000, tune=1000, chains=4, seed=2, progressbar=False)
    p = res.posterior["p"].reshape(-1, 3)
    assert (p > 0).all() and (np.diff(p, axis=1) > 0).all()
    exact = np.array([1 / 3, 1 / 3 + 1 / 2, 1 / 3 + 1 / 2 + 1])      # means of the order statistics of 3 Exp(1)
    np.testing.assert_allclose(p.mean(0), exact, rtol=0.1)
    u = m.unconstrain({"p": np.array([0.2, 0.5, 2.0])})
    np.testing.assert_allclose(m.constrain(u)["p"], [0.2, 0.5, 2.0])
    assert_grad(m, u)


def test_bad_inputs():
    m = _model("interval")
    with pytest.raises(ValueError, match="init for 'x': its bounds are parameters"):
        bb.sample(m, init={"x": 0.5}, draws=10, tune=10, chains=1, progressbar=False)
    with pytest.raises(ValueError, match="unconstrain: 'x': values must lie strictly inside their bounds"):
        m.unconstrain({"lo": 0.0, "x": 3.0})
    with bb.Model() as m3:
        lo = bb.Normal("lo", 0, 1)
        bb.Normal("x", 0, 3, transform=Interval(lower=lo, upper=lo + 2.0))
        bb.Normal("w", 0, 1)
    with pytest.raises(ValueError, match="unconstrain: no value for 'w'"):     # not a KeyError from the bounds
        m3.unconstrain({"lo": 0.0, "x": 1.0})
    with bb.Model() as m2:
        with pytest.raises(ValueError, match="positive and strictly increasing"):
            bb.Exponential("p", 1.0, shape=3, transform="positive_ordered", initval=np.array([1.0, 0.5, 2.0]))
