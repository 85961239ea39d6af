"""Log densities as expressions (``bb.Normal.logp(value, ...)``, the PointwiseLpdf op) and bb.Mixture:
values against scipy, gradients against finite differences, bad inputs, predictive draws, recovery."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special, stats

import brr_bayes as bb
from brr_bayes import ops
from helpers import assert_grad, rel_close

# (distribution, value, params as Flat parameters' constrained values -> scipy logpdf, parameter transforms)
CASES = {
    "Normal": (bb.Normal, np.array([-1.0, 0.3, 2.0]), dict(mu=0.4, sigma=1.3),
               lambda y, p: stats.norm.logpdf(y, p["mu"], p["sigma"])),
    "StudentT": (bb.StudentT, np.array([-1.0, 0.3, 2.0]), dict(nu=4.0, mu=0.4, sigma=1.3),
                 lambda y, p: stats.t.logpdf(y, p["nu"], p["mu"], p["sigma"])),
    "HalfNormal": (bb.HalfNormal, np.array([0.2, 1.5]), dict(sigma=0.8),
                   lambda y, p: stats.halfnorm.logpdf(y, scale=p["sigma"])),
    "Gamma": (bb.Gamma, np.array([0.2, 1.5, 3.0]), dict(alpha=2.5, beta=1.5),
              lambda y, p: stats.gamma.logpdf(y, p["alpha"], scale=1 / p["beta"])),
    "LogNormal": (bb.LogNormal, np.array([0.2, 1.5]), dict(mu=0.1, sigma=0.7),
                  lambda y, p: stats.lognorm.logpdf(y, p["sigma"], scale=np.exp(p["mu"]))),
    "Poisson": (bb.Poisson, np.array([0, 3, 7]), dict(log_mu=1.2),
                lambda y, p: stats.poisson.logpmf(y, np.exp(p["log_mu"]))),
    "Binomial": (bb.Binomial, np.array([0, 3, 7]), dict(n=np.array([4, 5, 9]), logit_p=0.3),
                 lambda y, p: stats.binom.logpmf(y, p["n"], special.expit(p["logit_p"]))),
    "Bernoulli": (bb.Bernoulli, np.array([0, 1, 1]), dict(logit_p=-0.4),
                  lambda y, p: stats.bernoulli.logpmf(y, special.expit(p["logit_p"]))),
}
POSITIVE = {"sigma", "nu", "alpha", "beta"}


def _model(name, scale):
    dist, y, params, ref = CASES[name]
    with bb.Model() as m:
        free = {k: (bb.HalfFlat(k) if k in POSITIVE else bb.Flat(k)) for k, v in params.items() if k != "n"}
        args = dict(free, **({"n": params["n"]} if "n" in params else {}))
        bb.Potential("lp", dist.logp(y, **args).sum())
    point = {k: v * (scale if k in POSITIVE else 1.0) for k, v in params.items() if k != "n"}
    want = float(np.sum(ref(y, dict(params, **point))))
    want += sum(float(np.log(v)) for k, v in point.items() if k in POSITIVE)   # the HalfFlat's log-Jacobian
    return m, m.unconstrain(point), want


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=15, deadline=None)
@given(scale=st.floats(0.5, 2.0))
def test_logp_expression_equals_scipy_with_its_gradient(name, scale):
    m, x, want = _model(name, scale)
    assert ops.POINTWISE_LPDF in m.compiled.program.op_codes()
    assert rel_close(m.logp(x), want, 1e-10)
    assert_grad(m, x, rtol=1e-6, h=1e-5)


def test_logp_of_an_expression_and_in_a_deterministic():
    # a value that is itself a parameter expression (no Jacobian added), and the numpy evaluator's reading
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 1)
        lp = bb.Deterministic("lp", bb.Normal.logp(2.0 * mu + np.array([0.0, 1.0]), 0.5, 2.0))
        bb.Potential("extra", lp.sum())
    x = np.array([0.3])
    want = stats.norm.logpdf(0.3, 0, 1) + stats.norm.logpdf(2 * 0.3 + np.array([0.0, 1.0]), 0.5, 2.0).sum()
    assert rel_close(m.logp(x), want, 1e-12)
    assert_grad(m, x)
    prior = bb.sample_prior_predictive(m, draws=50, seed=1)["prior"]
    mus = prior["mu"][0]
    np.testing.assert_allclose(prior["lp"][0], stats.norm.logpdf(2 * mus[:, None] + np.array([0.0, 1.0]), 0.5, 2.0),
                               rtol=1e-12)
    np.testing.assert_allclose(m.compiled.constrain(x)["lp"], stats.norm.logpdf(0.6 + np.array([0.0, 1.0]), 0.5, 2.0),
                               rtol=1e-12)


def test_logp_bad_inputs():
    with bb.Model():
        mu = bb.Flat("mu")
        with pytest.raises(TypeError, match="discrete distribution needs data"):
            bb.Poisson.logp(mu, log_mu=0.0)
        with pytest.raises(ValueError, match="observed counts must be whole numbers"):
            bb.Poisson.logp(np.array([1.5]), log_mu=mu)
        with pytest.raises(ValueError, match="do not broadcast together"):
            bb.Normal.logp(np.zeros(3), np.zeros(2), 1.0)
        with pytest.raises(ValueError, match="sigma must be > 0"):
            bb.Normal.logp(np.zeros(3), 0.0, -1.0)


def _mixture_ref(y, w, mus, sds):
    return special.logsumexp(np.log(w) + np.stack([stats.norm.logpdf(y, m_, s_) for m_, s_ in zip(mus, sds)], -1),
                             axis=-1)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.floats(0.05, 0.95))
def test_mixture_logp_and_gradient(mus, w0):
    y = np.array([-2.0, -0.1, 0.4, 3.0])
    with bb.Model() as m:
        mu = bb.Flat("mu", shape=3)
        s = bb.HalfFlat("s", shape=3)
        weights = np.array([w0, (1 - w0) / 2, (1 - w0) / 2])
        bb.Mixture("y", weights, [bb.Normal.dist(mu[k], s[k]) for k in range(3)], observed=y)
    sds = np.array([0.7, 1.1, 1.6])
    x = m.unconstrain({"mu": np.array(mus), "s": sds})
    want = float(_mixture_ref(y, weights, mus, sds).sum()) + float(np.log(sds).sum())   # + HalfFlat log-Jacobian
    assert rel_close(m.logp(x), want, 1e-10)
    assert_grad(m, x, rtol=1e-6, h=1e-5)


def test_mixture_bad_inputs():
    with bb.Model():
        mu = bb.Flat("mu")
        with pytest.raises(TypeError, match="at least 2 distributions"):
            bb.Mixture("y", np.array([1.0]), [bb.Normal.dist(mu, 1.0)], observed=np.zeros(3))
        with pytest.raises(ValueError, match="w needs 2 weights"):
            bb.Mixture("y", np.array([0.2, 0.3, 0.5]), [bb.Normal.dist(mu, 1), bb.Normal.dist(0, 1)],
                       observed=np.zeros(3))
        with pytest.raises(ValueError, match="fixed weights must be >= 0 and sum to 1"):
            bb.Mixture("y", np.array([0.2, 0.3]), [bb.Normal.dist(mu, 1), bb.Normal.dist(0, 1)], observed=np.zeros(3))
        with pytest.raises(TypeError, match="component 1 must be an unregistered univariate distribution"):
            bb.Mixture("y", np.array([0.5, 0.5]), [bb.Normal.dist(mu, 1), 3.0], observed=np.zeros(3))
        with pytest.raises(TypeError, match="mix discrete and continuous"):
            bb.Mixture("y", np.array([0.5, 0.5]), [bb.Normal.dist(mu, 1), bb.Poisson.dist(log_mu=0.0)],
                       observed=np.zeros(3))


def test_mixture_sampling_recovers_two_groups_and_predicts():
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(-2, 1, 300), rng.normal(2, 0.5, 200)])
    with bb.Model() as m:
        w = bb.Dirichlet("w", np.ones(2))
        mu = bb.Normal("mu", 0, 5, shape=2, transform="ordered")
        s = bb.HalfNormal("s", 2, shape=2)
        bb.Mixture("y", w, [bb.Normal.dist(mu[0], s[0]), bb.Normal.dist(mu[1], s[1])], observed=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=400, tune=400, chains=2, seed=1, progressbar=False)
    for name, truth in (("w", [0.6, 0.4]), ("mu", [-2.0, 2.0]), ("s", [1.0, 0.5])):
        d = res.posterior[name].reshape(-1, 2)
        z = (d.mean(0) - np.array(truth)) / d.std(0)
        assert np.all(np.abs(z) < 4), (name, z)
    pp = bb.sample_posterior_predictive(res)["y"]
    assert pp.shape == (2, 400, 500) and abs(np.mean(pp > 0) - 0.4) < 0.03    # the data's share in the right mode
    ll = bb.compute_log_likelihood(res)["y"]
    c = {k: res.posterior[k][1, 7] for k in ("w", "mu", "s")}
    np.testing.assert_allclose(ll[1, 7], _mixture_ref(y, c["w"], c["mu"], c["s"]), rtol=1e-10)
