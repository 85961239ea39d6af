"""Distribution base class: a name-first constructor that registers a variable in the current Model."""
from __future__ import annotations

import numpy as np

from ..core import Model
from ..expr import as_expr, broadcast_to, constant_value, nonfinite_data
from ..pickling import PicklesAsState
from ..transforms import Identity

_CHECKS = {
    "positive": (lambda v: v > 0, "must be > 0", "pass a positive value"),
    "nonneg": (lambda v: v >= 0, "must be >= 0", "pass a non-negative value"),
    "unit": (lambda v: (v > 0) & (v < 1), "must lie in (0, 1)", "pass a probability strictly between 0 and 1"),
    "real": (np.isfinite, "must be finite", "pass finite numbers"),
}


class Distribution(PicklesAsState):
    """Base of every distribution.

    ``bb.Normal("mu", 0, 5)`` creates and registers a variable in the model of the enclosing
    ``with bb.Model():`` block and returns an expression for it; ``bb.Normal.dist(0, 5)`` builds an
    unregistered distribution object.
    """

    param_names: tuple = ()
    checks: dict = {}         # param name -> key of _CHECKS for fixed (data) values
    discrete = False
    event_ndim = 0

    def __new__(cls, name, *args, dims=None, shape=None, observed=None, transform="default", initval=None,
                **kwargs):
        model = Model.get_context(f"{cls.__name__}('{name}')")
        dist = cls.dist(*args, _name=name, **kwargs)
        return model.register_rv(name, dist, dims=dims, shape=shape, observed=observed, transform=transform,
                                 initval=initval)

    @classmethod
    def dist(cls, *args, _name=None, **kwargs):
        self = object.__new__(cls)
        self.var_name = _name or cls.__name__
        self._setup(*args, **kwargs)
        return self

    # parameters --------------------------------------------------------------------------
    def _setup(self, *args, **kwargs):
        names = self.param_names
        if len(args) > len(names):
            raise TypeError(f"{self._where()}: takes {len(names)} parameters {names}, got {len(args)}")
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names:
                raise TypeError(f"{self._where()}: unknown parameter '{k}'; expected one of {names}")
            if k in values:
                raise TypeError(f"{self._where()}: parameter '{k}' given twice")
            values[k] = v
        missing = [n for n in names if n not in values]
        if missing:
            raise TypeError(f"{self._where()}: missing parameter(s) {missing}")
        self.params = {n: self._param(n, values[n]) for n in names}
        for n, k in getattr(self, "param_event_ndim", {}).items():
            if n in self.params and self.params[n].ndim < k:
                raise ValueError(f"{self._where()}: {n} needs at least {k} axis (the last holds one value per "
                                 f"category or component), got shape {self.params[n].shape}; pass e.g. an array "
                                 f"of shape (K,) or (n, K)")

    def _where(self):
        return f"{type(self).__name__} '{getattr(self, 'var_name', type(self).__name__)}'"

    def _param(self, name, value):
        try:
            e = as_expr(value)
        except TypeError as err:
            raise TypeError(f"{self._where()}: parameter {name}: {err}") from None
        v = constant_value(e)
        if v is not None:
            if not np.all(np.isfinite(v)):
                raise ValueError(f"{self._where()}: parameter {name} must be finite, got {v}")
            key = self.checks.get(name)
            if key:
                ok, req, fix = _CHECKS[key]
                bad = ~np.asarray(ok(v))
                if np.any(bad):
                    got = np.asarray(v)[bad].ravel()[0] if np.ndim(v) else v
                    raise ValueError(f"{self._where()}: {name} {req}, got {got}; {fix}")
        return e

    def batch_shape(self):
        shapes = [p.shape for p in self.params.values()]
        try:
            return np.broadcast_shapes(*shapes) if shapes else ()
        except ValueError:
            raise ValueError(f"{self._where()}: parameter shapes {shapes} do not broadcast together") from None

    def check_data(self, where, checked):
        """Raise if data feeding a parameter (constants, predictor matrices, dense or sparse) holds NaN or inf.

        Without this a NaN or inf predictor only surfaces as 'no starting point with a finite log density'.
        ``checked`` maps ids of nodes already checked to the nodes (kept alive so an id is never reused),
        so data shared by many variables is scanned once per model.
        """
        for pname, e in self.params.items():
            bad = nonfinite_data(e, checked)
            if bad:
                raise ValueError(f"{where}: parameter {pname} is computed from {bad}; drop or impute the missing "
                                 "values before building the model")

    def check_shape(self, shape, where):
        """Raise if a free variable of this distribution cannot have ``shape`` (default: any shape)."""

    # support -----------------------------------------------------------------------------
    def default_transform(self):
        return Identity()

    def check_value(self, value, where):
        """Validate observed data against the support; raise ValueError naming the fix."""
        check_finite(value, where)
        self.default_transform().check(value, where)

    def random(self, rng, params, size):
        """Draws of shape ``size`` given parameter arrays broadcast to it (batch axis first)."""
        raise NotImplementedError(f"{type(self).__name__} has no random draws")

    def logp_numpy(self, value, params):
        """Elementwise log-density in numpy (pointwise log-likelihood), params broadcast to value."""
        raise NotImplementedError(f"{type(self).__name__} has no pointwise log-density yet")

    # lowering ----------------------------------------------------------------------------
    def lower(self, C, value):
        """Emit the fused log-density op for ``value`` through compiler C."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(self.params)})"


def check_finite(value, where):
    """Raise, naming the first position, if observed data hold NaN or inf."""
    if not np.all(np.isfinite(value)):
        bad = np.flatnonzero(~np.isfinite(np.asarray(value).ravel()))[0]
        raise ValueError(f"{where}: observed data must be finite, got {np.asarray(value).ravel()[bad]} at "
                         f"flat position {bad}; drop or impute missing rows before building the model")


def broadcast_inputs(C, exprs, shape):
    """Slots for exprs, each either size 1 (broadcast in the kernel) or of the full shape."""
    out = []
    for e in exprs:
        e = as_expr(e)
        if e.size != 1 and e.shape != tuple(shape):
            e = broadcast_to(e, shape)
        out.append(C.slot(e))
    return out


def draw_category(rng, probs):
    """One category id per row of ``probs`` (..., K) with those probabilities: one uniform a draw."""
    cdf = np.cumsum(probs, axis=-1)
    return np.minimum((cdf < rng.random(probs.shape[:-1])[..., None]).sum(axis=-1), probs.shape[-1] - 1)


def pick_category(table, y):
    """table[..., y]: each row's entry for its category id, table (..., K) and ids broadcast together."""
    y = np.asarray(y, dtype=np.int64)
    shape = np.broadcast_shapes(table.shape[:-1], y.shape)
    table = np.broadcast_to(table, shape + table.shape[-1:])
    return np.take_along_axis(table, np.broadcast_to(y, shape)[..., None], axis=-1)[..., 0]

