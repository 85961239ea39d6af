"""Univariate distributions; each lowers to one fused C++ log-density op over broadcast inputs."""
from __future__ import annotations

import numpy as np
from scipy import special, stats

from ... import ops
from .. import math
from ..expr import Const, Op, as_expr, broadcast_to, constant_value
from ..transforms import Interval, LowerBound
from .base import Distribution, broadcast_inputs, check_finite

LOG2 = float(np.log(2.0))


class Univariate(Distribution):
    op = None
    half = False  # half-distributions: the parent's density on x >= 0, times 2

    def op_inputs(self, value):
        """Expressions fed to the op, value first (order as in csrc/density/univariate.cpp)."""
        return [value] + [self.params[n] for n in self.param_names]

    def constant_terms(self, value, shape):
        """Per-element data-only terms of the log density the kernel leaves out (array of ``shape``), or None."""
        return np.full(shape, LOG2) if self.half else None

    def constant(self, value, shape):
        terms = self.constant_terms(value, shape)
        return [] if terms is None else [float(np.sum(terms))]

    @classmethod
    def logp(cls, value, *args, **kwargs):
        """The log density of ``value`` (any expression) element by element, as an expression.

        Stan's ``foo_lpdf(value | ...)`` without the sum: sum it into the model with ``bb.Potential`` or
        combine it (``bb.math.logsumexp`` over components is a mixture). No Jacobian is added: the
        value is whatever expression you pass. Discrete distributions need data for ``value``.

        Example:
            >>> import numpy as np, brr_bayes as bb
            >>> with bb.Model() as m:
            ...     mu = bb.Flat("mu")
            ...     _ = bb.Potential("y", bb.Normal.logp(np.array([0.5, 1.5]), mu, 1.0).sum())
            >>> round(float(m.logp(np.array([1.0]))), 6)
            -2.087877
        """
        return cls.dist(*args, **kwargs).pointwise(value)

    def pointwise(self, value):
        """This distribution's log density at ``value`` as an elementwise expression (see ``logp``)."""
        value = as_expr(value)
        inputs = [as_expr(e) for e in self.op_inputs(value)]
        try:
            shape = np.broadcast_shapes(*(e.shape for e in inputs))
        except ValueError:
            raise ValueError(f"{self._where()}: the value's shape {value.shape} and the parameter shapes "
                             f"{[p.shape for p in self.params.values()]} do not broadcast together") from None
        data = constant_value(value)
        if self.discrete and data is None:
            raise TypeError(f"{self._where()}: the log probability of a discrete distribution needs data for its value, "
                            "not a model expression")
        if data is not None:
            self.check_value(np.broadcast_to(data, value.shape), self._where())
        inputs = [e if e.size == 1 or e.shape == shape else broadcast_to(e, shape) for e in inputs]
        terms = self.constant_terms(value, shape)
        if terms is not None:
            inputs.append(Const(np.broadcast_to(np.asarray(terms, dtype=np.float64), shape).copy()))
        # the distribution rides along for numpy evaluation (predictive draws of a Deterministic using it)
        return Op("lpdf", inputs, shape, code=self.op, dist=self)

    def lower(self, C, value):
        shape = value.shape
        try:
            slots = broadcast_inputs(C, self.op_inputs(value), shape)
        except ValueError:
            raise ValueError(f"{self._where()}: parameter shapes {[p.shape for p in self.params.values()]} do not "
                             f"broadcast to the variable's shape {shape}") from None
        C.op(self.op, slots, dp=self.constant(value, shape))


class Normal(Univariate):
    """Normal(mu, sigma).

    Example:
        >>> import brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 5)
    """
    param_names = ("mu", "sigma")
    checks = {"sigma": "positive"}
    op = ops.NORMAL

    def lower(self, C, value):
        sigma = self.params["sigma"]
        if isinstance(value, Const) and sigma.size == 1 and \
                C.likelihood(ops.GLM_NORMAL, self.params["mu"], value.value, aux=sigma):
            return
        super().lower(C, value)

    def random(self, rng, p, size):
        return rng.normal(p["mu"], p["sigma"], size)

    def logp_numpy(self, x, p):
        return stats.norm.logpdf(x, p["mu"], p["sigma"])


class HalfNormal(Univariate):
    """HalfNormal(sigma): |N(0, sigma)|, support x >= 0."""
    param_names = ("sigma",)
    checks = {"sigma": "positive"}
    op = ops.NORMAL
    half = True

    def op_inputs(self, value):
        return [value, Const(0.0), self.params["sigma"]]

    def default_transform(self):
        return LowerBound(0.0)

    def random(self, rng, p, size):
        return np.abs(rng.normal(0.0, p["sigma"], size))

    def logp_numpy(self, x, p):
        return stats.halfnorm.logpdf(x, scale=p["sigma"])


class StudentT(Univariate):
    """StudentT(nu, mu, sigma)."""
    param_names = ("nu", "mu", "sigma")
    checks = {"nu": "positive", "sigma": "positive"}
    op = ops.STUDENT_T

    def random(self, rng, p, size):
        return p["mu"] + p["sigma"] * rng.standard_t(p["nu"], size)

    def logp_numpy(self, x, p):
        return stats.t.logpdf(x, p["nu"], p["mu"], p["sigma"])


class HalfStudentT(Univariate):
    """HalfStudentT(nu, sigma): |StudentT(nu, 0, sigma)|."""
    param_names = ("nu", "sigma")
    checks = {"nu": "positive", "sigma": "positive"}
    op = ops.STUDENT_T
    half = True

    def op_inputs(self, value):
        return [value, self.params["nu"], Const(0.0), self.params["sigma"]]

    def default_transform(self):
        return LowerBound(0.0)

    def random(self, rng, p, size):
        return np.abs(p["sigma"] * rng.standard_t(p["nu"], size))

    def logp_numpy(self, x, p):
        return LOG2 + stats.t.logpdf(x, p["nu"], 0.0, p["sigma"])


class Cauchy(Univariate):
    """Cauchy(alpha, beta): location alpha, scale beta."""
    param_names = ("alpha", "beta")
    checks = {"beta": "positive"}
    op = ops.CAUCHY

    def random(self, rng, p, size):
        return p["alpha"] + p["beta"] * rng.standard_cauchy(size)

    def logp_numpy(self, x, p):
        return stats.cauchy.logpdf(x, p["alpha"], p["beta"])


class HalfCauchy(Univariate):
    """HalfCauchy(beta): |Cauchy(0, beta)|."""
    param_names = ("beta",)
    checks = {"beta": "positive"}
    op = ops.CAUCHY
    half = True

    def op_inputs(self, value):
        return [value, Const(0.0), self.params["beta"]]

    def default_transform(self):
        return LowerBound(0.0)

    def random(self, rng, p, size):
        return np.abs(p["beta"] * rng.standard_cauchy(size))

    def logp_numpy(self, x, p):
        return stats.halfcauchy.logpdf(x, scale=p["beta"])


class Laplace(Univariate):
    """Laplace(mu, b)."""
    param_names = ("mu", "b")
    checks = {"b": "positive"}
    op = ops.LAPLACE

    def random(self, rng, p, size):
        return rng.laplace(p["mu"], p["b"], size)

    def logp_numpy(self, x, p):
        return stats.laplace.logpdf(x, p["mu"], p["b"])


class Exponential(Univariate):
    """Exponential(lam): rate lam."""
    param_names = ("lam",)
    checks = {"lam": "positive"}
    op = ops.EXPONENTIAL

    def default_transform(self):
        return LowerBound(0.0)

    def random(self, rng, p, size):
        return rng.exponential(1.0 / np.asarray(p["lam"]), size)

    def logp_numpy(self, x, p):
        return stats.expon.logpdf(x, scale=1.0 / p["lam"])


class Gamma(Univariate):
    """Gamma(alpha, beta): shape alpha, rate beta."""
    param_names = ("alpha", "beta")
    checks = {"alpha": "positive", "beta": "positive"}
    op = ops.GAMMA

    def default_transform(self):
        return LowerBound(0.0)

    def random(self, rng, p, size):
        return rng.gamma(p["alpha"], 1.0 / np.asarray(p["beta"]), size)

    def logp_numpy(self, x, p):
        return stats.gamma.logpdf(x, p["alpha"], scale=1.0 / p["beta"])


class InverseGamma(Univariate):
    """InverseGamma(alpha, beta): shape alpha, scale beta."""
    param_names = ("alpha", "beta")
    checks = {"alpha": "positive", "beta": "positive"}
    op = ops.INV_GAMMA

    def default_transform(self):
        return LowerBound(0.0)

    def random(self, rng, p, size):
        return 1.0 / rng.gamma(p["alpha"], 1.0 / np.asarray(p["beta"]), size)

    def logp_numpy(self, x, p):
        return stats.invgamma.logpdf(x, p["alpha"], scale=p["beta"])


class LogNormal(Univariate):
    """LogNormal(mu, sigma): log(x) ~ Normal(mu, sigma)."""
    param_names = ("mu", "sigma")
    checks = {"sigma": "positive"}
    op = ops.LOGNORMAL

    def default_transform(self):
        return LowerBound(0.0)

    def random(self, rng, p, size):
        return rng.lognormal(p["mu"], p["sigma"], size)

    def logp_numpy(self, x, p):
        return stats.lognorm.logpdf(x, p["sigma"], scale=np.exp(p["mu"]))


class Beta(Univariate):
    """Beta(alpha, beta) on (0, 1)."""
    param_names = ("alpha", "beta")
    checks = {"alpha": "positive", "beta": "positive"}
    op = ops.BETA

    def default_transform(self):
        return Interval(0.0, 1.0)

    def random(self, rng, p, size):
        return rng.beta(p["alpha"], p["beta"], size)

    def logp_numpy(self, x, p):
        return stats.beta.logpdf(x, p["alpha"], p["beta"])


class Uniform(Univariate):
    """Uniform(lower, upper); the bounds must be data: numbers, or arrays (one bound per element)."""
    param_names = ("lower", "upper")
    checks = {"lower": "real", "upper": "real"}
    op = ops.UNIFORM

    def _setup(self, *args, **kwargs):
        super()._setup(*args, **kwargs)
        lo, hi = constant_value(self.params["lower"]), constant_value(self.params["upper"])
        if lo is None or hi is None:
            raise TypeError(f"{self._where()}: lower and upper must be numbers or data arrays")
        if np.any(~(np.asarray(lo) < np.asarray(hi))):
            raise ValueError(f"{self._where()}: lower must be < upper, got ({lo}, {hi}); swap the bounds")

    def default_transform(self):
        # one number each, or a bound per element (DataBounds: Stan's vector<lower=L, upper=U>)
        return Interval(constant_value(self.params["lower"]), constant_value(self.params["upper"]))

    def check_value(self, value, where):
        # observed data against its own bounds, elementwise
        check_finite(value, where)
        lo, hi = constant_value(self.params["lower"]), constant_value(self.params["upper"])
        outside = ~((np.asarray(value) >= lo) & (np.asarray(value) <= hi))
        if np.any(outside):
            i = tuple(int(k) for k in np.argwhere(outside)[0])
            raise ValueError(f"{where}: observed value {np.asarray(value)[i]:g} at index {i} lies outside its bounds "
                             f"[{np.broadcast_to(lo, np.shape(value))[i]:g}, {np.broadcast_to(hi, np.shape(value))[i]:g}]; "
                             "fix the data or the bounds")

    def random(self, rng, p, size):
        return rng.uniform(p["lower"], p["upper"], size)

    def logp_numpy(self, x, p):
        return stats.uniform.logpdf(x, p["lower"], p["upper"] - p["lower"])


class Flat(Univariate):
    """Improper flat prior on the real line (no density term)."""
    param_names = ()

    def lower(self, C, value):
        if self.is_observed(value):
            raise ValueError(f"{self._where()}: a flat prior cannot be observed")

    @staticmethod
    def is_observed(value):
        return isinstance(value, Const)


class HalfFlat(Flat):
    """Improper flat prior on (0, inf)."""

    def default_transform(self):
        return LowerBound(0.0)


# discrete likelihoods ------------------------------------------------------------------------
def _integer_counts(value, where, what="counts"):
    v = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{where}: observed {what} must be finite; drop or impute missing rows")
    if np.any(v != np.round(v)):
        bad = v[v != np.round(v)].ravel()[0]
        raise ValueError(f"{where}: observed {what} must be whole numbers, got {bad}")
    if np.any(v < 0):
        raise ValueError(f"{where}: observed {what} must be >= 0, got {v[v < 0].ravel()[0]}")
    return v


class _LinkedDiscrete(Univariate):
    """Count likelihoods parameterised on the link scale (logit or log) for stability."""
    discrete = True
    link_name = None      # e.g. "logit_p"
    natural_name = None   # e.g. "p"
    link = None           # numpy-free expression map natural -> link

    def _setup(self, *args, **kwargs):
        nat = kwargs.pop(self.natural_name, None)
        lk = kwargs.pop(self.link_name, None)
        fixed = [n for n in self.param_names if n != self.link_name]
        given = dict(zip(fixed, args))
        if len(args) > len(fixed):
            if nat is not None or lk is not None:
                raise TypeError(f"{self._where()}: too many parameters")
            nat = args[len(fixed)]
        if (nat is None) == (lk is None):
            raise TypeError(f"{self._where()}: pass exactly one of {self.natural_name}= or {self.link_name}=")
        if nat is not None:
            natural = self._param(self.natural_name, nat)
            lk = self.link(natural)
        given.update(kwargs)
        given[self.link_name] = lk
        Distribution._setup(self, **given)

    def lower(self, C, value):
        if not isinstance(value, Const):
            raise TypeError(f"{self._where()}: discrete variables must be observed (pass observed=data)")
        super().lower(C, value)


def _logit(p):
    return math.logit(p)


def _log(x):
    return math.log(x)


class Bernoulli(_LinkedDiscrete):
    """Bernoulli(p) or Bernoulli(logit_p=eta); y in {0, 1}.

    Rows whose predictors repeat are summed into binomial cells automatically (exact).
    """
    param_names = ("logit_p",)
    link_name, natural_name = "logit_p", "p"
    checks = {"p": "unit"}
    op = ops.BERNOULLI_LOGIT
    link = staticmethod(_logit)

    def lower(self, C, value):
        if isinstance(value, Const) and C.likelihood(ops.GLM_BERNOULLI, self.params["logit_p"], value.value):
            return
        super().lower(C, value)

    def check_value(self, value, where):
        v = _integer_counts(value, where, "outcomes")
        if np.any(v > 1):
            raise ValueError(f"{where}: Bernoulli outcomes must be 0 or 1, got {v[v > 1].ravel()[0]}")

    def random(self, rng, p, size):
        return (rng.random(size) < special.expit(p["logit_p"])).astype(np.int64)

    def logp_numpy(self, y, p):
        eta = p["logit_p"]
        return y * eta - np.logaddexp(0.0, eta)


class Binomial(_LinkedDiscrete):
    """Binomial(n, p) or Binomial(n, logit_p=eta); n must be data."""
    param_names = ("n", "logit_p")
    link_name, natural_name = "logit_p", "p"
    checks = {"n": "nonneg", "p": "unit"}
    op = ops.BINOMIAL_LOGIT
    link = staticmethod(_logit)

    def _setup(self, *args, **kwargs):
        super()._setup(*args, **kwargs)
        n = constant_value(self.params["n"])
        if n is None:
            raise TypeError(f"{self._where()}: the number of trials n must be data")
        if np.any(n != np.round(n)):
            raise ValueError(f"{self._where()}: n must hold whole numbers of trials")

    def check_value(self, value, where):
        v = _integer_counts(value, where)
        n = np.broadcast_to(constant_value(self.params["n"]), v.shape) if v.shape else constant_value(self.params["n"])
        if np.any(v > n):
            i = np.flatnonzero(np.ravel(v > n))[0]
            raise ValueError(f"{where}: successes must not exceed trials n, got {np.ravel(v)[i]} > "
                             f"{np.ravel(n)[i]} at flat position {i}")

    def constant_terms(self, value, shape):
        y = np.broadcast_to(constant_value(value), shape)
        n = np.broadcast_to(constant_value(self.params["n"]), shape)
        return special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)

    def lower(self, C, value):
        if isinstance(value, Const):
            y = value.value
            n = np.broadcast_to(constant_value(self.params["n"]), y.shape).ravel()
            const = self.constant(value, y.shape)[0]
            if C.likelihood(ops.GLM_BINOMIAL, self.params["logit_p"], y, trials=n.reshape(y.shape), const=const):
                return
        super().lower(C, value)

    def random(self, rng, p, size):
        return rng.binomial(np.asarray(p["n"], dtype=np.int64), special.expit(p["logit_p"]), size)

    def logp_numpy(self, y, p):
        n, eta = p["n"], p["logit_p"]
        lchoose = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
        return lchoose + y * eta - n * np.logaddexp(0.0, eta)


class Poisson(_LinkedDiscrete):
    """Poisson(mu) or Poisson(log_mu=eta)."""
    param_names = ("log_mu",)
    link_name, natural_name = "log_mu", "mu"
    checks = {"mu": "positive"}
    op = ops.POISSON_LOG
    link = staticmethod(_log)

    def check_value(self, value, where):
        _integer_counts(value, where)

    def constant_terms(self, value, shape):
        return -special.gammaln(np.broadcast_to(constant_value(value), shape) + 1)

    def lower(self, C, value):
        if isinstance(value, Const) and C.likelihood(ops.GLM_POISSON, self.params["log_mu"], value.value,
                                                     const=self.constant(value, value.shape)[0]):
            return
        super().lower(C, value)

    def random(self, rng, p, size):
        return rng.poisson(np.exp(p["log_mu"]), size)

    def logp_numpy(self, y, p):
        return stats.poisson.logpmf(y, np.exp(p["log_mu"]))


class NegativeBinomial(_LinkedDiscrete):
    """NegativeBinomial(mu, phi) or (log_mu=eta, phi=...): mean mu, variance mu + mu^2/phi."""
    param_names = ("phi", "log_mu")
    link_name, natural_name = "log_mu", "mu"
    checks = {"mu": "positive", "phi": "positive"}
    op = ops.NEG_BINOMIAL_LOG
    link = staticmethod(_log)

    def _setup(self, mu=None, phi=None, log_mu=None):
        if phi is None:
            raise TypeError(f"{self._where()}: missing the dispersion phi")
        if (mu is None) == (log_mu is None):
            raise TypeError(f"{self._where()}: pass exactly one of mu or log_mu=")
        if mu is not None:
            log_mu = self.link(self._param("mu", mu))
        Distribution._setup(self, phi=phi, log_mu=log_mu)

    def op_inputs(self, value):
        return [value, self.params["log_mu"], self.params["phi"]]

    def lower(self, C, value):
        phi = self.params["phi"]
        if isinstance(value, Const) and phi.size == 1 and \
                C.likelihood(ops.GLM_NEGBIN, self.params["log_mu"], value.value, aux=phi,
                             const=self.constant(value, value.shape)[0]):
            return
        super().lower(C, value)

    def check_value(self, value, where):
        _integer_counts(value, where)

    def constant_terms(self, value, shape):
        return -special.gammaln(np.broadcast_to(constant_value(value), shape) + 1)

    def random(self, rng, p, size):
        mu, phi = np.exp(p["log_mu"]), np.asarray(p["phi"])
        return rng.poisson(rng.gamma(phi, mu / phi, size))

    def logp_numpy(self, y, p):
        mu, phi = np.exp(p["log_mu"]), p["phi"]
        return stats.nbinom.logpmf(y, phi, phi / (mu + phi))
