"""Every distribution: log-density against scipy.stats (1e-10 relative) and gradients against finite
differences with respect to the value and every parameter (hypothesis-generated points)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special, stats

import brr_bayes as bb
from helpers import assert_grad, rel_close

SETTINGS = settings(max_examples=15, deadline=None)

# name, constructor, params, scipy logpdf(x, **params), value range
CONTINUOUS = [
    ("Normal", bb.Normal, dict(mu=0.3, sigma=1.7), lambda x, mu, sigma: stats.norm(mu, sigma).logpdf(x), (-3, 3)),
    ("HalfNormal", bb.HalfNormal, dict(sigma=1.3), lambda x, sigma: stats.halfnorm(scale=sigma).logpdf(x), (0.1, 3)),
    ("StudentT", bb.StudentT, dict(nu=4.5, mu=-0.2, sigma=1.4),
     lambda x, nu, mu, sigma: stats.t(nu, mu, sigma).logpdf(x), (-4, 4)),
    ("HalfStudentT", bb.HalfStudentT, dict(nu=3.0, sigma=2.0),
     lambda x, nu, sigma: np.log(2) + stats.t(nu, 0, sigma).logpdf(x), (0.1, 4)),
    ("Cauchy", bb.Cauchy, dict(alpha=0.5, beta=2.0), lambda x, alpha, beta: stats.cauchy(alpha, beta).logpdf(x),
     (-4, 4)),
    ("HalfCauchy", bb.HalfCauchy, dict(beta=2.5), lambda x, beta: stats.halfcauchy(scale=beta).logpdf(x), (0.1, 4)),
    ("Laplace", bb.Laplace, dict(mu=0.1, b=1.5), lambda x, mu, b: stats.laplace(mu, b).logpdf(x), (-3, 3)),
    ("Exponential", bb.Exponential, dict(lam=1.7), lambda x, lam: stats.expon(scale=1 / lam).logpdf(x), (0.1, 4)),
    ("Gamma", bb.Gamma, dict(alpha=2.5, beta=1.5), lambda x, alpha, beta: stats.gamma(alpha, scale=1 / beta).logpdf(x),
     (0.1, 5)),
    ("InverseGamma", bb.InverseGamma, dict(alpha=3.0, beta=2.0),
     lambda x, alpha, beta: stats.invgamma(alpha, scale=beta).logpdf(x), (0.2, 5)),
    ("LogNormal", bb.LogNormal, dict(mu=0.2, sigma=0.8), lambda x, mu, sigma: stats.lognorm(sigma, scale=np.exp(mu))
     .logpdf(x), (0.1, 5)),
    ("Beta", bb.Beta, dict(alpha=2.0, beta=3.5), lambda x, alpha, beta: stats.beta(alpha, beta).logpdf(x),
     (0.05, 0.95)),
    ("Uniform", bb.Uniform, dict(lower=-1.0, upper=2.5), lambda x, lower, upper: stats.uniform(lower, upper - lower)
     .logpdf(x), (-0.9, 2.4)),
]
IDS = [c[0] for c in CONTINUOUS]


@pytest.mark.parametrize("name,ctor,params,ref,rng", CONTINUOUS, ids=IDS)
def test_continuous_logp_matches_scipy(name, ctor, params, ref, rng):
    @SETTINGS
    @given(st.lists(st.floats(*rng), min_size=1, max_size=6))
    def run(xs):
        x = np.array(xs)
        with bb.Model() as m:
            ctor("y", **params, observed=x)
        expected = float(np.sum(ref(x, **params)))
        assert rel_close(m.logp(np.zeros(0)), expected, 1e-10), (m.logp(np.zeros(0)), expected)
    run()


@pytest.mark.parametrize("name,ctor,params,ref,rng", [c for c in CONTINUOUS if c[0] != "Uniform"],
                         ids=[i for i in IDS if i != "Uniform"])
def test_continuous_gradients(name, ctor, params, ref, rng):
    """Free value (no transform) and free parameters: logp is the raw density; gradient vs FD."""
    @SETTINGS
    @given(st.floats(*rng), st.lists(st.floats(0.8, 1.25), min_size=len(params), max_size=len(params)))
    def run(x, scales):
        vals = {k: v * s for (k, v), s in zip(params.items(), scales)}
        assume(name != "Laplace" or abs(x - vals["mu"]) > 1e-3)   # |x - mu| has no derivative at its kink
        with bb.Model() as m:
            free = {k: bb.Flat(k) for k in vals}
            ctor("x", **free, transform=None)
        point = dict(vals, x=x)
        xu = m.unconstrain(point)
        assert rel_close(m.logp(xu), float(ref(x, **vals)), 1e-10)
        assert_grad(m, xu, h=1e-5)
    run()


def test_uniform_bounds_must_be_numbers_not_parameters():
    with bb.Model():
        with pytest.raises(TypeError, match="lower and upper must be numbers"):
            bb.Uniform("u", bb.Flat("a"), 1.0)


DISCRETE = [
    ("Bernoulli", lambda y, eta: bb.Bernoulli("y", logit_p=eta, observed=y),
     lambda y, eta: stats.bernoulli(special.expit(eta)).logpmf(y), lambda r, n: r.integers(0, 2, n)),
    ("Binomial", lambda y, eta: bb.Binomial("y", np.full(len(y), 12), logit_p=eta, observed=y),
     lambda y, eta: stats.binom(12, special.expit(eta)).logpmf(y), lambda r, n: r.integers(0, 13, n)),
    ("Poisson", lambda y, eta: bb.Poisson("y", log_mu=eta, observed=y),
     lambda y, eta: stats.poisson(np.exp(eta)).logpmf(y), lambda r, n: r.integers(0, 20, n)),
]


@pytest.mark.parametrize("name,build,ref,draw", DISCRETE, ids=[d[0] for d in DISCRETE])
def test_discrete_logp_and_gradient(name, build, ref, draw):
    @SETTINGS
    @given(st.integers(0, 2 ** 31), st.lists(st.floats(-3, 3), min_size=1, max_size=6))
    def run(seed, etas):
        eta = np.array(etas)
        y = draw(np.random.default_rng(seed), len(eta))
        with bb.Model() as m:
            build(y, bb.Flat("eta", shape=len(eta)))
        xu = m.unconstrain({"eta": eta})
        assert rel_close(m.logp(xu), float(np.sum(ref(y, eta))), 1e-10)
        assert_grad(m, xu)
    run()


@SETTINGS
@given(st.integers(0, 2 ** 31), st.floats(-1, 3), st.floats(0.3, 20))
def test_negative_binomial(seed, log_mu, phi):
    y = np.random.default_rng(seed).integers(0, 30, 5)
    with bb.Model() as m:
        bb.NegativeBinomial("y", log_mu=bb.Flat("lm"), phi=bb.Flat("phi"), observed=y)
    mu = np.exp(log_mu)
    ref = stats.nbinom(phi, phi / (mu + phi)).logpmf(y).sum()
    xu = m.unconstrain({"lm": log_mu, "phi": phi})
    assert rel_close(m.logp(xu), float(ref), 1e-10)
    assert_grad(m, xu, h=1e-5)


def test_natural_parameterisations_match_link_ones():
    y = np.array([0, 1, 1, 0, 1])
    with bb.Model() as m1:
        bb.Bernoulli("y", p=0.3, observed=y)
    with bb.Model() as m2:
        bb.Poisson("y", 2.5, observed=y)
    with bb.Model() as m3:
        bb.NegativeBinomial("y", 2.5, 3.0, observed=y)
    assert rel_close(m1.logp(np.zeros(0)), stats.bernoulli(0.3).logpmf(y).sum(), 1e-12)
    assert rel_close(m2.logp(np.zeros(0)), stats.poisson(2.5).logpmf(y).sum(), 1e-12)
    assert rel_close(m3.logp(np.zeros(0)), stats.nbinom(3.0, 3.0 / 5.5).logpmf(y).sum(), 1e-12)


@SETTINGS
@given(st.lists(st.floats(-3, 3), min_size=6, max_size=6), st.integers(0, 2 ** 31))
def test_categorical_and_multinomial(logits, seed):
    L = np.array(logits).reshape(2, 3)
    r = np.random.default_rng(seed)
    y = r.integers(0, 3, 2)
    counts = np.stack([r.multinomial(7, [0.2, 0.3, 0.5]) for _ in range(2)])
    with bb.Model() as m:
        lg = bb.Flat("lg", shape=(2, 3))
        bb.Categorical("c", logits=lg, observed=y)
        bb.Multinomial("k", 7, logits=lg, observed=counts)
    p = special.softmax(L, axis=1)
    ref = np.log(p[np.arange(2), y]).sum() + sum(stats.multinomial(7, p[i]).logpmf(counts[i]) for i in range(2))
    xu = m.unconstrain({"lg": L})
    assert rel_close(m.logp(xu), float(ref), 1e-10)
    assert_grad(m, xu)


@SETTINGS
@given(st.lists(st.floats(0.5, 4), min_size=3, max_size=3), st.integers(0, 2 ** 31))
def test_dirichlet(alpha, seed):
    a = np.array(alpha)
    x = np.random.default_rng(seed).dirichlet([2, 3, 4])
    with bb.Model() as m:
        bb.Dirichlet("x", bb.Flat("a", shape=3), transform=None, shape=3)
    # value is free without transform: logp(x | a) directly, gradient wrt x (3) and a (3)
    xu = m.unconstrain({"a": a, "x": x})
    assert rel_close(m.logp(xu), float(stats.dirichlet(a).logpdf(x)), 1e-10)
    assert_grad(m, xu, h=1e-6)


@SETTINGS
@given(st.lists(st.floats(-2, 2), min_size=9, max_size=9))
def test_mvnormal_cholesky(vals):
    v = np.array(vals)
    L = np.array([[1.2, 0, 0], [0.3, 0.8, 0], [-0.4, 0.2, 1.5]])
    X = v.reshape(3, 3)
    mu = np.array([0.1, -0.2, 0.3])
    with bb.Model() as m:
        Lf = bb.Flat("L", shape=(3, 3))
        bb.MvNormal("x", bb.Flat("mu", shape=3), chol=Lf, transform=None, shape=(3, 3))
    ref = stats.multivariate_normal(mu, L @ L.T).logpdf(X).sum()
    xu = m.unconstrain({"L": L, "mu": mu, "x": X})
    assert rel_close(m.logp(xu), float(ref), 1e-10)
    lp, g = assert_grad(m, xu)


def test_mvnormal_fixed_cov_matches_scipy():
    cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    y = np.array([[0.1, 0.2], [-1.0, 0.4], [0.5, -0.3]])
    with bb.Model() as m:
        bb.MvNormal("y", np.zeros(2), cov=cov, observed=y)
    assert rel_close(m.logp(np.zeros(0)), stats.multivariate_normal(np.zeros(2), cov).logpdf(y).sum(), 1e-10)


def test_lkj_normalising_constant_k2_integrates_to_one():
    """For K=2, L = [[1,0],[r, sqrt(1-r^2)]]; the density of r must integrate to 1 over (-1, 1)."""
    from scipy import integrate
    for eta in (0.7, 1.0, 2.5):
        with bb.Model() as m:
            bb.LKJCholesky("L", 2, eta)
        # unconstrained y = atanh(r); logp includes log|J| of y -> (r, L): density of y
        dens = lambda y: np.exp(m.logp(np.array([y])))  # noqa: E731
        total, _ = integrate.quad(dens, -20, 20, limit=200)
        assert abs(total - 1.0) < 1e-7, (eta, total)


@SETTINGS
@given(st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3), st.floats(0.5, 4))
def test_lkj_gradient(y, eta):
    with bb.Model() as m:
        e = bb.Flat("eta")
        bb.LKJCholesky("L", 3, bb.math.exp(e))
    xu = np.concatenate([[np.log(eta)], y])
    assert_grad(m, xu)


def test_zero_sum_normal_sums_to_zero_and_has_normal_density():
    with bb.Model() as m:
        bb.ZeroSumNormal("z", 1.3, shape=5)
    x = np.random.default_rng(2).normal(size=4)
    z = m.constrain(x)["z"]
    assert abs(z.sum()) < 1e-12
    assert rel_close(m.logp(x), float(stats.norm(0, 1.3).logpdf(z).sum()), 1e-12)
    assert_grad(m, x)
