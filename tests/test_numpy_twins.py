"""Every distribution's numpy log density (``logp_numpy``: the pointwise log-likelihood behind
bb.compute_log_likelihood and LOO) against the C++ density the sampler uses, on hypothesis-generated
parameters and data, through the same parameter alignment compute_log_likelihood uses. They were written
twice, in two languages, and not all of them were compared (issue #33)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brr_bayes as bb
from brr_bayes.compile.evaluate import Evaluator, align

N = 5
real = st.floats(-2.0, 2.0)
pos = st.floats(0.3, 3.0)

# name: (constructor, {argument: strategy of its value, an array of N or a scalar}, strategy of the observed data)
TWINS = {
    "Normal": (bb.Normal, dict(mu=real, sigma=pos), st.floats(-3, 3)),
    "HalfNormal": (bb.HalfNormal, dict(sigma=pos), st.floats(0.05, 3)),
    "StudentT": (bb.StudentT, dict(nu=pos, mu=real, sigma=pos), st.floats(-3, 3)),
    "HalfStudentT": (bb.HalfStudentT, dict(nu=pos, sigma=pos), st.floats(0.05, 3)),
    "Cauchy": (bb.Cauchy, dict(alpha=real, beta=pos), st.floats(-3, 3)),
    "HalfCauchy": (bb.HalfCauchy, dict(beta=pos), st.floats(0.05, 3)),
    "Laplace": (bb.Laplace, dict(mu=real, b=pos), st.floats(-3, 3)),
    "Exponential": (bb.Exponential, dict(lam=pos), st.floats(0.05, 3)),
    "Gamma": (bb.Gamma, dict(alpha=pos, beta=pos), st.floats(0.05, 3)),
    "InverseGamma": (bb.InverseGamma, dict(alpha=pos, beta=pos), st.floats(0.05, 3)),
    "LogNormal": (bb.LogNormal, dict(mu=real, sigma=pos), st.floats(0.05, 3)),
    "Beta": (bb.Beta, dict(alpha=pos, beta=pos), st.floats(0.02, 0.98)),
    "Uniform": (bb.Uniform, dict(lower=st.floats(-3, -2.5), upper=st.floats(2.5, 3)), st.floats(-2, 2)),
    "Bernoulli": (bb.Bernoulli, dict(logit_p=real), st.integers(0, 1)),
    "Binomial": (bb.Binomial, dict(n=st.just(7), logit_p=real), st.integers(0, 7)),
    "Poisson": (bb.Poisson, dict(log_mu=real), st.integers(0, 12)),
    "NegativeBinomial": (bb.NegativeBinomial, dict(phi=pos, log_mu=real), st.integers(0, 12)),
}


def _c_logp(make, kwargs, y):
    with bb.Model() as m:
        make("y", **kwargs, observed=y)
    return m.logp(np.zeros(0)), m.observed_rvs[0]


def _numpy_logp(rv):
    """As bb.compute_log_likelihood computes it, for one point (the parameters are data here)."""
    ev = Evaluator({}, 1)
    nd = getattr(rv.dist, "param_event_ndim", {})
    params = {k: align(ev(p), 1, rv.shape, nd.get(k, 0)) for k, p in rv.dist.params.items()}
    return float(np.sum(rv.dist.logp_numpy(rv.value, params)))


@pytest.mark.parametrize("name", sorted(TWINS))
def test_numpy_twin_equals_the_cpp_density(name):
    make, args, data = TWINS[name]

    @settings(max_examples=25, deadline=None)
    @given(st.fixed_dictionaries({k: st.one_of(s, st.lists(s, min_size=N, max_size=N)) for k, s in args.items()}),
           st.lists(data, min_size=N, max_size=N))
    def run(kwargs, y):
        kwargs = {k: np.asarray(v, dtype=float) if isinstance(v, list) else v for k, v in kwargs.items()}
        c, rv = _c_logp(make, kwargs, np.asarray(y))
        assert np.isclose(_numpy_logp(rv), c, rtol=1e-10, atol=1e-10), (_numpy_logp(rv), c, kwargs, y)
    run()


@pytest.mark.parametrize("family", ["OrderedLogistic", "OrderedProbit"])
def test_ordinal_twins(family):
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.floats(-2, 2), min_size=N, max_size=N), st.lists(st.integers(0, 3), min_size=N, max_size=N),
           st.lists(st.floats(0.2, 1.5), min_size=3, max_size=3))
    def run(eta, y, gaps):
        cut = np.cumsum(gaps) - 1.5
        c, rv = _c_logp(getattr(bb, family), dict(eta=np.asarray(eta), cutpoints=cut), np.asarray(y))
        assert np.isclose(_numpy_logp(rv), c, rtol=1e-10, atol=1e-10)
    run()


def test_categorical_twin():
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.lists(st.floats(-2, 2), min_size=3, max_size=3), min_size=N, max_size=N),
           st.lists(st.integers(0, 2), min_size=N, max_size=N))
    def run(logits, y):
        c, rv = _c_logp(bb.Categorical, dict(logits=np.asarray(logits)), np.asarray(y))
        assert np.isclose(_numpy_logp(rv), c, rtol=1e-10, atol=1e-10)
    run()


def test_mixture_twin():
    @settings(max_examples=25, deadline=None)
    @given(st.floats(0.1, 0.9), st.floats(-2, 2), st.floats(0.3, 2), st.lists(st.floats(-3, 3), min_size=N, max_size=N))
    def run(w, mu, sigma, y):
        comps = [bb.Normal.dist(mu, sigma), bb.StudentT.dist(3.0, -mu, 2 * sigma)]
        c, rv = _c_logp(bb.Mixture, dict(w=np.array([w, 1 - w]), components=comps), np.asarray(y))
        assert np.isclose(_numpy_logp(rv), c, rtol=1e-10, atol=1e-10)
    run()
