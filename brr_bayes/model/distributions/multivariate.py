"""Distributions over vectors and matrices: the last axis (or two) is the event."""
from __future__ import annotations

import numpy as np
from scipy import special

from ... import ops, portable
from .. import math
from ..expr import Const, as_expr, broadcast_to, constant_value, stack
from ..transforms import CholeskyCorr, Simplex, SumToZero
from .base import Distribution, draw_category, pick_category
from .univariate import Normal, _integer_counts


def _batch(shape, where):
    if len(shape) < 1:
        raise ValueError(f"{where}: needs at least one dimension (the event axis)")
    return int(np.prod(shape[:-1], dtype=np.int64)), int(shape[-1])


class Dirichlet(Distribution):
    """Dirichlet(a) over simplexes along the last axis."""
    param_names = ("a",)
    checks = {"a": "positive"}
    param_event_ndim = {"a": 1}        # one concentration per component along the last axis
    event_ndim = 1

    def default_transform(self):
        return Simplex()

    def lower(self, C, value):
        b, K = _batch(value.shape, self._where())
        a = broadcast_to(self.params["a"], value.shape)
        C.op(ops.DIRICHLET, [C.slot(value), C.slot(a)], ip=[b, K])

    def random(self, rng, p, size):
        g = rng.gamma(np.broadcast_to(p["a"], size))
        return g / g.sum(axis=-1, keepdims=True)


class MvNormal(Distribution):
    """MvNormal(mu, chol=L) (or cov= for a fixed covariance) over the last axis."""
    param_names = ("mu", "chol")
    event_ndim = 1

    def _setup(self, mu, chol=None, cov=None):
        if (chol is None) == (cov is None):
            raise TypeError(f"{self._where()}: pass exactly one of chol= or cov=")
        if cov is not None:
            c = np.asarray(cov, dtype=np.float64)
            if c.ndim != 2 or c.shape[0] != c.shape[1]:
                raise ValueError(f"{self._where()}: cov must be a square (K, K) matrix, got shape {c.shape}")
            if not np.all(np.isfinite(c)):
                raise ValueError(f"{self._where()}: cov holds NaN or infinite values; pass a finite covariance")
            if not np.allclose(c, c.T, rtol=1e-10, atol=1e-12 * np.abs(c).max()):
                i, j = np.unravel_index(np.argmax(np.abs(c - c.T)), c.shape)
                raise ValueError(f"{self._where()}: cov is not symmetric (cov[{i},{j}] = {c[i, j]:g} but cov[{j},{i}] = "
                                 f"{c[j, i]:g}); pass a symmetric covariance, e.g. (cov + cov.T) / 2")
            try:
                chol = portable.cholesky(c)   # a constant of the program: the same bits on every machine
            except np.linalg.LinAlgError:
                raise ValueError(f"{self._where()}: cov is not positive definite; pass a valid covariance") from None
        super()._setup(mu, chol)
        L = self.params["chol"]
        if L.ndim != 2 or L.shape[0] != L.shape[1]:
            raise ValueError(f"{self._where()}: chol must be a square (K, K) matrix, got shape {L.shape}")
        Lc = constant_value(L)
        if Lc is not None and np.any(np.diag(Lc) <= 0):
            raise ValueError(f"{self._where()}: chol must have a positive diagonal")
        if Lc is not None and np.any(np.triu(Lc, 1) != 0):
            # the kernel reads the lower triangle only: a full matrix here is almost surely a covariance
            raise ValueError(f"{self._where()}: chol must be lower-triangular (its upper triangle holds non-zeros); "
                             "for a covariance matrix pass cov=, e.g. bb.MvNormal(name, mu, cov=S)")

    def batch_shape(self):
        K = self.params["chol"].shape[0]
        mu = self.params["mu"]
        try:
            return np.broadcast_shapes(mu.shape, (K,))
        except ValueError:
            raise ValueError(f"{self._where()}: mu has shape {mu.shape} but the covariance is {K} x {K}; mu's last "
                             f"axis must hold the {K} means (shape ({K},) or (n, {K}))") from None

    def lower(self, C, value):
        b, K = _batch(value.shape, self._where())
        if K != self.params["chol"].shape[0]:
            raise ValueError(f"{self._where()}: value has event size {K} but chol is {self.params['chol'].shape}")
        mu = broadcast_to(self.params["mu"], value.shape)
        C.op(ops.MVNORMAL_CHOLESKY, [C.slot(value), C.slot(mu), C.slot(self.params["chol"])], ip=[b, K])

    def random(self, rng, p, size):
        L = np.asarray(p["chol"])  # (batch, K, K)
        z = rng.standard_normal(size)
        mu = np.broadcast_to(p["mu"].reshape(p["mu"].shape[:1] + (1,) * (len(size) - p["mu"].ndim)
                                              + p["mu"].shape[1:]), size)
        return mu + np.einsum("bij,b...j->b...i", L, z)


class LKJCholesky(Distribution):
    """LKJCholesky(n, eta): Cholesky factor of an n x n correlation matrix with LKJ(eta) density."""
    param_names = ("eta",)
    checks = {"eta": "positive"}
    event_ndim = 2

    def _setup(self, n, eta=1.0):
        if int(n) != n or n < 2:
            raise ValueError(f"{self._where()}: n must be an integer >= 2, got {n}")
        self.n = int(n)
        super()._setup(eta)

    def batch_shape(self):
        return (self.n, self.n)

    def default_transform(self):
        return CholeskyCorr()

    def lower(self, C, value):
        C.op(ops.LKJ_CHOLESKY, [C.slot(value), C.slot(self.params["eta"])], ip=[1, self.n])


class ZeroSumNormal(Distribution):
    """ZeroSumNormal(sigma): normal values constrained to sum to zero along the last axis."""
    param_names = ("sigma",)
    checks = {"sigma": "positive"}
    event_ndim = 1

    def default_transform(self):
        return SumToZero()

    def batch_shape(self):
        return ()

    def check_shape(self, shape, where):
        if len(shape) == 0 or shape[-1] < 2:
            raise ValueError(f"{where}: a zero-sum vector needs shape=(K,) with K >= 2 along its last axis, got shape "
                             f"{tuple(shape)}; pass shape=K (or dims=) for the K values that sum to zero")

    def lower(self, C, value):
        Normal.dist(0.0, self.params["sigma"]).lower(C, value)

    def random(self, rng, p, size):
        s = p["sigma"].reshape(p["sigma"].shape[:1] + (1,) * (len(size) - 1))
        z = rng.normal(size=size) * s
        return z - z.mean(axis=-1, keepdims=True)


class Categorical(Distribution):
    """Categorical(p) or Categorical(logits=...): observed category ids 0..K-1."""
    param_names = ("logits",)
    discrete = True
    event_ndim = 0
    param_event_ndim = {"logits": 1}   # the logits' last axis holds the K categories, not a batch axis

    def _setup(self, p=None, logits=None):
        if (p is None) == (logits is None):
            raise TypeError(f"{self._where()}: pass exactly one of p or logits=")
        if p is not None:
            pv = constant_value(as_expr(p))
            if pv is not None and (np.any(pv < 0) or np.any(np.abs(np.sum(pv, -1) - 1) > 1e-8)):
                raise ValueError(f"{self._where()}: p must be non-negative and sum to 1 along the last axis")
            logits = math.log(p)
        super()._setup(logits)

    def batch_shape(self):
        return self.params["logits"].shape[:-1]

    def check_value(self, value, where):
        v = _integer_counts(value, where, "categories")
        K = self.params["logits"].shape[-1]
        if np.any(v >= K):
            raise ValueError(f"{where}: categories must be in [0, {K - 1}], got {v[v >= K].ravel()[0]}")

    def random(self, rng, p, size):
        lg = p["logits"]
        K = lg.shape[-1]
        lg = np.broadcast_to(lg.reshape(lg.shape[:1] + (1,) * (len(size) + 1 - lg.ndim) + lg.shape[1:]), size + (K,))
        return draw_category(rng, special.softmax(lg, axis=-1))

    def logp_numpy(self, y, p):
        return pick_category(special.log_softmax(np.asarray(p["logits"], dtype=np.float64), axis=-1), y)

    def lower(self, C, value):
        if not isinstance(value, Const):
            raise TypeError(f"{self._where()}: discrete variables must be observed")
        K = self.params["logits"].shape[-1]
        logits = broadcast_to(self.params["logits"], value.shape + (K,))
        if self._lower_merged(C, logits, value, K):
            return
        C.op(ops.CATEGORICAL_LOGIT, [C.slot(value), C.slot(logits)], ip=[value.size, K])

    def _lower_merged(self, C, logits, value, K):
        """Emit the op over merged rows when the logits are K row-wise columns stacked (multinomial-logit
        regression over survey rows) and rows repeat; False otherwise."""
        n = value.size
        if logits.ndim != 2 or n != logits.shape[0]:
            return False
        merged = C.merged_rows([logits[:, k] for k in range(K)], value.value)
        if merged is None:
            return False
        y = np.ravel(value.value)[merged.first]
        C.op(ops.CATEGORICAL_LOGIT, [C.slot(Const(y)), C.slot(stack(merged.etas, axis=-1)),
                                     C.slot(Const(merged.counts))], ip=[y.size, K])
        return True


class Multinomial(Distribution):
    """Multinomial(n, p) or Multinomial(n, logits=...): counts along the last axis summing to n."""
    param_names = ("n", "logits")
    discrete = True
    event_ndim = 1
    param_event_ndim = {"logits": 1}   # the logits' last axis holds the K categories

    def _setup(self, n, p=None, logits=None):
        if (p is None) == (logits is None):
            raise TypeError(f"{self._where()}: pass exactly one of p or logits=")
        if p is not None:
            logits = math.log(p)
        super()._setup(n, logits)

    def batch_shape(self):
        # n holds one total per row of counts: its shape is the batch shape, the logits' adds the K axis
        n, logits = self.params["n"].shape, self.params["logits"].shape
        try:
            return np.broadcast_shapes(n + (1,), logits)
        except ValueError:
            raise ValueError(f"{self._where()}: n of shape {n} (one total per row of counts) and logits of shape "
                             f"{logits} (rows x categories) do not broadcast together") from None

    def check_value(self, value, where):
        v = _integer_counts(value, where)
        n = constant_value(self.params["n"])
        if n is None or np.any(np.abs(np.sum(v, -1) - n) > 0):
            raise ValueError(f"{where}: counts must sum to n along the last axis")

    def lower(self, C, value):
        if not isinstance(value, Const):
            raise TypeError(f"{self._where()}: discrete variables must be observed")
        b, K = _batch(value.shape, self._where())
        logits = broadcast_to(self.params["logits"], value.shape)
        y = value.value
        const = float(np.sum(special.gammaln(y.sum(-1) + 1)) - np.sum(special.gammaln(y + 1)))
        C.op(ops.MULTINOMIAL_LOGIT, [C.slot(value), C.slot(logits)], ip=[b, K], dp=[const])
