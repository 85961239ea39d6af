"""Finite mixtures: log p(y) = logsumexp_k(log w_k + log f_k(y)), the components marginalised out.

The components are unregistered univariate distributions (``bb.Normal.dist(mu1, s1)``, ...); their
log densities at the value are elementwise expressions (``Distribution.pointwise``), so the mixture
is one logsumexp over a stacked axis and its gradient comes from the same ops as any expression.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from ... import ops
from .. import math
from ..expr import as_expr, constant_value, logsumexp, stack
from .base import Distribution, draw_category
from .univariate import Univariate


class Mixture(Distribution):
    """A mixture of K univariate components with weights ``w`` (K values on the simplex, or (..., K)).

    ``bb.Mixture("y", w, [bb.Normal.dist(mu[0], s[0]), bb.Normal.dist(mu[1], s[1])], observed=y)``
    is Stan's ``log_mix`` / PyMC's ``pm.Mixture``. Give the weights a Dirichlet prior; to avoid label
    switching order the component locations (``transform="ordered"``). Components must share one
    support (the first component's constraint is used for an unobserved mixture).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> y = np.concatenate([np.random.default_rng(0).normal(-2, 1, 300), np.random.default_rng(1).normal(2, 1, 200)])
        >>> with bb.Model() as m:
        ...     w = bb.Dirichlet("w", np.ones(2))
        ...     mu = bb.Normal("mu", 0, 5, shape=2, transform="ordered")
        ...     _ = bb.Mixture("y", w, [bb.Normal.dist(mu[0], 1.0), bb.Normal.dist(mu[1], 1.0)], observed=y)
        >>> res = bb.sample(m, draws=300, tune=300, chains=2, seed=1, progressbar=False)
        >>> np.round(res.posterior["mu"].mean(axis=(0, 1))).tolist()
        [-2.0, 2.0]
    """
    param_event_ndim = {"w": 1}

    def _setup(self, w, components):
        comps = list(components) if isinstance(components, (list, tuple)) else None
        if not comps or len(comps) < 2:
            raise TypeError(f"{self._where()}: components must be a list of at least 2 distributions such as "
                            "[bb.Normal.dist(0, 1), bb.Normal.dist(3, 1)]")
        for k, c in enumerate(comps):
            if not isinstance(c, Univariate) or type(c).__name__ == "Flat" or getattr(c, "op", None) is None:
                raise TypeError(f"{self._where()}: component {k} must be an unregistered univariate distribution "
                                f"(bb.Normal.dist(...), bb.Poisson.dist(...), ...), got {c!r}")
        if len({c.discrete for c in comps}) != 1:
            raise TypeError(f"{self._where()}: components mix discrete and continuous distributions; use one kind")
        self.components = comps
        self.discrete = comps[0].discrete
        w = self._param("w", w)
        if w.ndim < 1 or w.shape[-1] != len(comps):
            raise ValueError(f"{self._where()}: w needs {len(comps)} weights along its last axis (one per component), "
                             f"got shape {w.shape}")
        v = constant_value(w)
        if v is not None and (np.any(v < 0) or np.any(np.abs(np.sum(v, -1) - 1) > 1e-8)):
            raise ValueError(f"{self._where()}: fixed weights must be >= 0 and sum to 1 along the last axis, got "
                             f"{np.asarray(v).tolist()}")
        self.params = {"w": w}
        for k, c in enumerate(comps):
            self.params.update({f"{k}:{n}": p for n, p in c.params.items()})

    def batch_shape(self):
        shapes = [self.params["w"].shape[:-1]] + [tuple(c.batch_shape()) for c in self.components]
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"{self._where()}: weight and component shapes {shapes} do not broadcast") from None

    def default_transform(self):
        return self.components[0].default_transform()

    def check_value(self, value, where):
        self.components[0].check_value(value, where)

    def lower(self, C, value):
        value = as_expr(value)
        lps = [c.pointwise(value) for c in self.components]
        shape = np.broadcast_shapes(*(lp.shape for lp in lps), self.params["w"].shape[:-1])
        terms = stack([lp if lp.shape == shape else lp + np.zeros(shape) for lp in lps], axis=-1)
        mix = logsumexp(math.log(self.params["w"]) + terms, axis=-1)
        C.op(ops.TARGET_ADD, [C.slot(mix)])

    def _split(self, p):
        return [{n: p[f"{k}:{n}"] for n in c.params} for k, c in enumerate(self.components)]

    def random(self, rng, p, size):
        pick = draw_category(rng, np.broadcast_to(np.asarray(p["w"]), tuple(size) + (len(self.components),)))
        draws = [np.broadcast_to(c.random(rng, {n: np.broadcast_to(v, size) for n, v in cp.items()}, size), size)
                 for c, cp in zip(self.components, self._split(p))]
        return np.choose(pick, draws)

    def logp_numpy(self, y, p):
        lps = [np.asarray(c.logp_numpy(y, cp)) for c, cp in zip(self.components, self._split(p))]
        shape = np.broadcast_shapes(*(lp.shape for lp in lps))
        stacked = np.stack([np.broadcast_to(lp, shape) for lp in lps], axis=-1)
        with np.errstate(divide="ignore"):
            return special.logsumexp(np.log(np.asarray(p["w"])) + stacked, axis=-1)
