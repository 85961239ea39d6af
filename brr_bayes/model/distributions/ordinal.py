"""Ordinal outcomes: ordered logistic (proportional odds) and ordered probit over K categories.

A latent eta is cut at K-1 increasing cutpoints c: P(y <= k) = F(c[k] - eta), F the logistic or
the normal cdf. Survey scales (approve strongly ... disapprove strongly, 1-7 party ID, turnout
likelihood) are the use. Category ids are 0..K-1; cutpoints are a parameter with the ``ordered``
transform (``bb.Normal("c", 0, 5, shape=K-1, transform="ordered")``) or fixed numbers.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from ... import ops
from ..expr import Const, as_expr, broadcast_to, constant_value
from .base import Distribution, draw_category, pick_category
from .univariate import _integer_counts


class _Ordered(Distribution):
    param_names = ("eta", "cutpoints")
    discrete = True
    event_ndim = 0
    param_event_ndim = {"cutpoints": 1}   # the cutpoints' last axis is one set of K-1, not a batch axis
    op = None

    def _setup(self, eta, cutpoints):
        super()._setup(eta, cutpoints)
        cut = self.params["cutpoints"]
        if cut.ndim < 1 or cut.shape[-1] < 1:
            raise ValueError(f"{self._where()}: cutpoints must have K-1 >= 1 values along the last axis (K categories), "
                             f"got shape {cut.shape}")
        v = constant_value(cut)
        if v is not None and np.any(np.diff(v, axis=-1) <= 0):
            raise ValueError(f"{self._where()}: fixed cutpoints must increase strictly along the last axis, got "
                             f"{np.asarray(v).tolist()}; sort them, or make them a parameter with transform='ordered'")

    @property
    def categories(self):
        return self.params["cutpoints"].shape[-1] + 1

    def batch_shape(self):
        try:
            return np.broadcast_shapes(self.params["eta"].shape, self.params["cutpoints"].shape[:-1])
        except ValueError:
            raise ValueError(f"{self._where()}: eta shape {self.params['eta'].shape} and cutpoint batch shape "
                             f"{self.params['cutpoints'].shape[:-1]} do not broadcast together") from None

    def check_value(self, value, where):
        v = _integer_counts(value, where, "categories")
        K = self.categories
        if np.any(v >= K):
            raise ValueError(f"{where}: categories must be ids in [0, {K - 1}] for {K - 1} cutpoints, got "
                             f"{v[v >= K].ravel()[0]}; recode the outcome to 0..K-1 or pass K-1 cutpoints")

    def lower(self, C, value):
        if not isinstance(value, Const):
            raise TypeError(f"{self._where()}: discrete variables must be observed")
        K = self.categories
        eta = as_expr(self.params["eta"])
        if eta.shape != value.shape:
            eta = broadcast_to(eta, value.shape)
        cut = self.params["cutpoints"]
        if cut.ndim == 1:          # one set for every row: the kernel reads it directly, no gather
            merged = C.merged_rows([eta.reshape((value.size,))], value.value)   # survey rows repeat
            if merged is not None:
                y = np.ravel(value.value)[merged.first]
                C.op(self.op, [C.slot(Const(y)), C.slot(merged.etas[0]), C.slot(cut), C.slot(Const(merged.counts))],
                     ip=[y.size, K, 0])
                return
            stride = 0
        else:
            cut, stride = broadcast_to(cut, value.shape + (K - 1,)), K - 1
        C.op(self.op, [C.slot(value), C.slot(eta), C.slot(cut)], ip=[value.size, K, stride])

    def _cdf(self, x):
        raise NotImplementedError

    def _probs(self, p):
        """P(y = k) along a new last axis, from eta (...,) and cutpoints (..., K-1) broadcast together."""
        eta = np.asarray(p["eta"], dtype=np.float64)[..., None]
        cum = self._cdf(np.asarray(p["cutpoints"], dtype=np.float64) - eta)
        ones = np.ones(cum.shape[:-1] + (1,))
        return np.diff(np.concatenate([0 * ones, cum, ones], axis=-1), axis=-1)

    def random(self, rng, p, size):
        return draw_category(rng, np.broadcast_to(self._probs(p), tuple(size) + (self.categories,)))

    def logp_numpy(self, y, p):
        with np.errstate(divide="ignore"):
            return np.log(pick_category(self._probs(p), y))


class OrderedLogistic(_Ordered):
    """Ordered logistic likelihood (proportional odds): P(y <= k) = inv_logit(cutpoints[k] - eta).

    ``eta`` is the latent linear predictor (no intercept: the cutpoints play its part), one per
    observation; ``cutpoints`` holds K-1 increasing values (shared, or one set per observation along
    the last axis). Observed categories are 0..K-1. Stan's ``ordered_logistic``.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> x = np.linspace(-2, 2, 200)
        >>> y = np.digitize(1.5 * x + np.random.default_rng(0).logistic(size=200), [-1.0, 0.5, 2.0])
        >>> with bb.Model() as m:
        ...     beta = bb.Normal("beta", 0, 2)
        ...     c = bb.Normal("c", 0, 5, shape=3, transform="ordered")
        ...     _ = bb.OrderedLogistic("y", beta * x, c, observed=y)
        >>> res = bb.sample(m, draws=300, tune=300, chains=2, seed=1, progressbar=False)
        >>> 0.9 < float(res.posterior["beta"].mean()) < 2.2
        True
    """
    op = ops.ORDERED_LOGISTIC

    def _cdf(self, x):
        return special.expit(x)


class OrderedProbit(_Ordered):
    """Ordered probit likelihood: P(y <= k) = Phi(cutpoints[k] - eta), Phi the standard normal cdf.

    Same arguments as ``bb.OrderedLogistic``; Stan's ``ordered_probit``.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 1)
        ...     _ = bb.OrderedProbit("y", mu, np.array([-0.5, 0.5]), observed=np.array([0, 1, 2, 2, 1]))
        >>> bool(np.isfinite(m.logp(np.zeros(m.dim))))
        True
    """
    op = ops.ORDERED_PROBIT

    def _cdf(self, x):
        return special.ndtr(x)
