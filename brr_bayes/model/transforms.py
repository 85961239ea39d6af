"""Constraining transforms: unconstrained vector -> parameter of the given support, with log|J|.

Each transform names its C++ op; the numpy ``inverse`` maps constrained values back (for initial
values and ``Model.unconstrain``). The forward map runs only in C++, so there is one definition.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .. import ops, portable
from . import math
from .expr import Expr, as_expr, broadcast_to, constant_value
from .pickling import PicklesAsState


class Transform(PicklesAsState):
    name = "identity"
    code = None

    def unconstrained_shape(self, shape):
        return tuple(shape)

    def ip(self, shape):
        return []

    def dp(self):
        return []

    def inverse(self, x):
        return np.asarray(x, dtype=np.float64)

    def check(self, x, where):
        """Raise ValueError if x is outside the support."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class Identity(Transform):
    pass


class LowerBound(Transform):
    name = "lower"
    code = ops.LOWER_BOUND

    def __new__(cls, lower):
        if _is_parameter(lower):
            return ParamBounds(lower, None)
        return DataBounds(lower, None) if _varies(lower) else super().__new__(cls)

    def __init__(self, lower):
        self.lower = _one(lower)

    def dp(self):
        return [self.lower]

    def inverse(self, x):
        return np.log(np.asarray(x, dtype=np.float64) - self.lower)

    def check(self, x, where):
        if np.any(~(np.asarray(x) > self.lower)):
            raise ValueError(f"{where}: values must be > {self.lower}")


class UpperBound(Transform):
    name = "upper"
    code = ops.UPPER_BOUND

    def __new__(cls, upper):
        if _is_parameter(upper):
            return ParamBounds(None, upper)
        return DataBounds(None, upper) if _varies(upper) else super().__new__(cls)

    def __init__(self, upper):
        self.upper = _one(upper)

    def dp(self):
        return [self.upper]

    def inverse(self, x):
        return np.log(self.upper - np.asarray(x, dtype=np.float64))

    def check(self, x, where):
        if np.any(~(np.asarray(x) < self.upper)):
            raise ValueError(f"{where}: values must be < {self.upper}")


def _is_parameter(b):
    """A bound that depends on parameters (an expression that is not data)."""
    return isinstance(b, Expr) and constant_value(b) is None


def _data(b):
    return np.asarray(constant_value(b) if isinstance(b, Expr) else b, dtype=np.float64)


def _varies(b):
    """A data bound with more than one distinct value (Stan's vector<lower=L>): one bound per element."""
    if b is None or _is_parameter(b):
        return False
    v = _data(b)
    return v.size > 1 and not np.all(v == v.flat[0])


def _one(b):
    """A data bound given as a number or as an array of one repeated value."""
    return float(_data(b).flat[0])


class Interval(Transform):
    name = "interval"
    code = ops.INTERVAL

    def __new__(cls, lower, upper):
        if _is_parameter(lower) or _is_parameter(upper):   # bounds that are parameters: see ParamBounds
            return ParamBounds(lower, upper)
        if _varies(lower) or _varies(upper):               # a bound per element: see DataBounds
            return DataBounds(lower, upper)
        return super().__new__(cls)

    def __init__(self, lower, upper):
        self.lower, self.upper = _one(lower), _one(upper)
        if not self.lower < self.upper:
            raise ValueError(f"interval bounds must satisfy lower < upper, got ({lower}, {upper})")

    def dp(self):
        return [self.lower, self.upper]

    def inverse(self, x):
        return special.logit((np.asarray(x, dtype=np.float64) - self.lower) / (self.upper - self.lower))

    def check(self, x, where):
        x = np.asarray(x)
        if np.any(~((x > self.lower) & (x < self.upper))):
            raise ValueError(f"{where}: values must lie strictly inside ({self.lower}, {self.upper})")


def _batch_k(shape, name):
    if len(shape) < 1 or shape[-1] < 1:
        raise ValueError(f"the {name} transform needs a last axis of length >= 1, got shape {shape}")
    return int(np.prod(shape[:-1], dtype=np.int64)), int(shape[-1])


class Ordered(Transform):
    name = "ordered"
    code = ops.ORDERED

    def ip(self, shape):
        return list(_batch_k(shape, "ordered"))

    def inverse(self, x):
        x = np.asarray(x, dtype=np.float64)
        return np.concatenate([x[..., :1], np.log(np.diff(x, axis=-1))], axis=-1)

    def check(self, x, where):
        if np.any(np.diff(np.asarray(x), axis=-1) <= 0):
            raise ValueError(f"{where}: values must be strictly increasing along the last axis")


class Simplex(Transform):
    """Stan's stick-breaking map from K-1 reals to the K-simplex."""
    name = "simplex"
    code = ops.SIMPLEX

    def unconstrained_shape(self, shape):
        return tuple(shape[:-1]) + (shape[-1] - 1,)

    def ip(self, shape):
        return list(_batch_k(shape, "simplex"))

    def inverse(self, x):
        x = np.asarray(x, dtype=np.float64)
        K = x.shape[-1]
        y = np.empty(x.shape[:-1] + (K - 1,))
        stick = np.ones(x.shape[:-1])
        for k in range(K - 1):
            z = x[..., k] / stick
            y[..., k] = special.logit(z) + np.log(K - 1 - k)
            stick = stick - x[..., k]
        return y

    def check(self, x, where):
        x = np.asarray(x)
        if np.any(x <= 0) or np.any(np.abs(x.sum(-1) - 1) > 1e-8):
            raise ValueError(f"{where}: values must be positive and sum to 1 along the last axis")


class SumToZero(Transform):
    """Stan's isometric map from K-1 reals to vectors summing to zero (log|J| = 0)."""
    name = "sum_to_zero"
    code = ops.SUM_TO_ZERO

    def unconstrained_shape(self, shape):
        return tuple(shape[:-1]) + (shape[-1] - 1,)

    def ip(self, shape):
        return list(_batch_k(shape, "sum_to_zero"))

    @staticmethod
    def basis(K):
        """K x (K-1) matrix with orthonormal columns spanning the zero-sum subspace (Stan's map)."""
        V = np.zeros((K, K - 1))
        for j in range(K - 1):
            y = np.zeros(K - 1)
            y[j] = 1.0
            z = np.zeros(K)
            sum_w = 0.0
            for i in range(K - 1, 0, -1):
                w = y[i - 1] / np.sqrt(i * (i + 1.0))
                sum_w += w
                z[i - 1] += sum_w
                z[i] -= w * i
            V[:, j] = z
        return V

    def inverse(self, x):
        x = np.asarray(x, dtype=np.float64)
        return portable.matmul(x.reshape(-1, x.shape[-1]), self.basis(x.shape[-1])).reshape(x.shape[:-1] + (x.shape[-1] - 1,))

    def check(self, x, where):
        if np.any(np.abs(np.asarray(x).sum(-1)) > 1e-8):
            raise ValueError(f"{where}: values must sum to zero along the last axis")


class CholeskyCorr(Transform):
    """Stan's tanh map to the Cholesky factor of a correlation matrix."""
    name = "cholesky_corr"
    code = ops.CHOLESKY_CORR

    def unconstrained_shape(self, shape):
        K = shape[-1]
        if len(shape) != 2 or shape[0] != K:
            raise ValueError(f"a Cholesky correlation factor must have shape (K, K), got {shape}")
        return (K * (K - 1) // 2,)

    def ip(self, shape):
        return [int(shape[-1])]

    def inverse(self, L):
        L = np.asarray(L, dtype=np.float64)
        K = L.shape[-1]
        z = []
        for i in range(1, K):
            ss = 0.0
            for j in range(i):
                z.append(L[i, j] if j == 0 else L[i, j] / np.sqrt(1.0 - ss))
                ss += L[i, j] ** 2
        return np.arctanh(np.asarray(z))

    def check(self, L, where):
        L = np.asarray(L)
        if np.any(np.abs(np.sum(L ** 2, axis=-1) - 1) > 1e-8) or np.any(np.triu(L, 1) != 0):
            raise ValueError(f"{where}: must be lower-triangular with rows of unit length")


class ExprTransform(Transform):
    """A transform written as model expressions of the unconstrained value: ``forward(raw)`` returns
    (constrained value, log|J| summed); the compiler lowers both like any expression, so bounds may be
    parameters and gradients need no new kernel."""
    code = None
    depends_on_parameters = False   # inverse() needs the values of other parameters (see inverse_at)

    def forward(self, raw):
        raise NotImplementedError


class ParamBounds(ExprTransform):
    """Bounds that are expressions of other parameters: Stan's ``real<lower=a, upper=b> x``.

    Made by ``Interval(lower=a, upper=b)``, ``LowerBound(a)`` or ``UpperBound(b)`` when a bound is a
    parameter expression (broadcast to the variable's shape). ``x = a + (b - a) * inv_logit(u)``,
    ``a + exp(u)`` or ``b - exp(u)``, with the matching log|J|.

    Example:
        >>> import brr_bayes as bb
        >>> from brr_bayes.model.transforms import Interval
        >>> with bb.Model() as m:
        ...     lo = bb.Normal("lo", 0, 1)
        ...     x = bb.Normal("x", 0, 3, transform=Interval(lower=lo, upper=lo + 2.0))
        >>> res = bb.sample(m, draws=200, tune=200, chains=2, seed=1, progressbar=False)
        >>> bool(((res.posterior["x"] > res.posterior["lo"]) & (res.posterior["x"] < res.posterior["lo"] + 2)).all())
        True
    """
    name = "param_bounds"
    depends_on_parameters = True

    def __init__(self, lower, upper):
        if lower is None and upper is None:
            raise ValueError("ParamBounds needs a lower or an upper bound")
        self.lower = None if lower is None else as_expr(lower)
        self.upper = None if upper is None else as_expr(upper)

    def forward(self, raw):
        shape = raw.shape

        def full(b):
            return b if b.size == 1 or b.shape == shape else broadcast_to(b, shape)
        if self.lower is not None and self.upper is not None:
            lo, hi = full(self.lower), full(self.upper)
            width = hi - lo
            value = lo + width * math.inv_logit(raw)
            logj = math.log(width) + math.log_inv_logit(raw) + math.log1m_inv_logit(raw)
        elif self.lower is not None:
            value, logj = full(self.lower) + math.exp(raw), raw
        else:
            value, logj = full(self.upper) - math.exp(raw), raw
        return value, logj

    def inverse(self, x):
        raise ValueError("a value of a variable whose bounds are parameters is mapped back only together with those "
                         "parameters' values: pass every parameter to model.unconstrain, or leave this variable out "
                         "of init=")

    def inverse_at(self, x, lower=None, upper=None):
        """The unconstrained value of x given the bounds' values at the same point."""
        x = np.asarray(x, dtype=np.float64)
        if self.lower is not None and self.upper is not None:
            return special.logit((x - lower) / (upper - lower))
        return np.log(x - lower) if self.lower is not None else np.log(upper - x)

    def check_at(self, x, where, lower=None, upper=None):
        x = np.asarray(x)
        if (self.lower is not None and np.any(~(x > lower))) or (self.upper is not None and np.any(~(x < upper))):
            raise ValueError(f"{where}: values must lie strictly inside their bounds at this point "
                             f"(lower {lower}, upper {upper})")

    def __repr__(self):
        return "ParamBounds(lower=expr, upper=expr)"


class DataBounds(ParamBounds):
    """Bounds that are data arrays, one per element: Stan's ``vector<lower=L, upper=U>[K]``.

    Made by ``Interval``, ``LowerBound`` or ``UpperBound`` (and a ``Uniform`` variable) when a bound is an
    array holding more than one value; it broadcasts against the variable's shape. The maps and log|J|
    are ParamBounds', with the bounds as data, so ``inverse`` and ``check`` work on values alone.

    Example:
        >>> import numpy as np
        >>> import brr_bayes as bb
        >>> with bb.Model() as m:
        ...     x = bb.Uniform("x", np.array([0.0, 1.0, 10.0]), np.array([1.0, 5.0, 11.0]))
        >>> m.constrain(np.zeros(3))["x"].tolist()
        [0.5, 3.0, 10.5]
    """
    name = "data_bounds"
    depends_on_parameters = False

    def __init__(self, lower, upper):
        self.lo = None if lower is None else _data(lower)
        self.hi = None if upper is None else _data(upper)
        if self.lo is not None and self.hi is not None:
            try:
                bad = ~(self.lo < self.hi)
            except ValueError:
                raise ValueError(f"interval bounds of shapes {self.lo.shape} and {self.hi.shape} do not broadcast "
                                 "together; give one bound per element, or one number") from None
            if np.any(bad):
                i = tuple(int(k) for k in np.argwhere(bad)[0])
                raise ValueError(f"interval bounds must satisfy lower < upper elementwise; at index {i}: lower "
                                 f"{np.broadcast_to(self.lo, bad.shape)[i]:g}, upper "
                                 f"{np.broadcast_to(self.hi, bad.shape)[i]:g}; swap or fix them")
        super().__init__(self.lo, self.hi)

    def forward(self, raw):
        for b in (self.lo, self.hi):
            if b is not None:
                try:
                    np.broadcast_to(b, raw.shape)
                except ValueError:
                    raise ValueError(f"bounds of shape {b.shape} do not broadcast to the variable's shape "
                                     f"{raw.shape}; give one bound per element") from None
        return super().forward(raw)

    def inverse(self, x):
        return self.inverse_at(x, self.lo, self.hi)

    def check(self, x, where):
        self.check_at(x, where, self.lo, self.hi)

    def __repr__(self):
        return f"DataBounds(lower={self.lo}, upper={self.hi})"


class PositiveOrdered(ExprTransform):
    """Strictly increasing positive values along the last axis: x = cumsum(exp(u)); Stan's positive_ordered."""
    name = "positive_ordered"

    def forward(self, raw):
        if raw.ndim < 1 or raw.shape[-1] < 1:
            raise ValueError(f"the positive_ordered transform needs a last axis of length >= 1, got shape {raw.shape}")
        return math.cumsum(math.exp(raw), axis=-1), raw

    def inverse(self, x):
        x = np.asarray(x, dtype=np.float64)
        return np.log(np.diff(x, axis=-1, prepend=0.0))

    def check(self, x, where):
        x = np.asarray(x)
        if np.any(x <= 0) or np.any(np.diff(x, axis=-1) <= 0):
            raise ValueError(f"{where}: values must be positive and strictly increasing along the last axis")


def bounded(lower=None, upper=None) -> Transform:
    if lower is not None and upper is not None:
        return Interval(lower, upper)
    if lower is not None:
        return LowerBound(lower)
    if upper is not None:
        return UpperBound(upper)
    return Identity()


def by_name(name, where="transform"):
    """A parameter-free transform by its name: 'ordered', 'positive_ordered', 'simplex', 'sum_to_zero', ..."""
    table = {t.name: t for t in (Identity, Ordered, PositiveOrdered, Simplex, SumToZero, CholeskyCorr)}
    if name not in table:
        raise ValueError(f"{where}: transform={name!r} is not known; pass one of {sorted(table)}, None, or a transform "
                         "object from brr_bayes.model.transforms (e.g. Interval(0, 1))")
    return table[name]()
