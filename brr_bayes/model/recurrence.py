"""A first-order linear recurrence as one op: x[t] = a[t] * x[t-1] + b[t], vectorised over series.

ARMA error recursions, GARCH variance recursions, exponential smoothing and local-level filters are
this recurrence, so a time series of any length is one op forward and one backward (the adjoint is
the same recurrence run backwards), not a chain of T written-out steps.
"""
from __future__ import annotations

import numpy as np

from .expr import Const, Op, as_expr, broadcast_to, constant_value


def linear_recurrence(a, b, x0=0.0):
    """x with x[t] = a[t] * x[t-1] + b[t] along the first axis (x[-1] = x0); a, b broadcast to b's shape.

    ``b`` has shape (T,) or (T, n) for n series side by side; ``a`` broadcasts to it (a scalar, (T,),
    (n,) or (T, n)) and ``x0`` to (n,).

    Example (ARMA(1,1) errors e[t] = y[t] - mu - phi y[t-1] - theta e[t-1]):
        >>> import numpy as np, brr_bayes as bb
        >>> y = np.array([0.3, -0.1, 0.4, 0.2])
        >>> with bb.Model() as m:
        ...     mu, phi, theta = bb.Normal("mu", 0, 1), bb.Uniform("phi", -1, 1), bb.Uniform("theta", -1, 1)
        ...     pred = mu + phi * np.concatenate([[0.0], y[:-1]])
        ...     e = bb.math.linear_recurrence(-theta, y - pred)
        ...     _ = bb.Potential("y", bb.Normal.logp(e, 0, 1).sum())
        >>> e.shape
        (4,)
    """
    b = as_expr(b)
    if b.ndim not in (1, 2) or b.shape[0] < 1:
        raise ValueError(f"linear_recurrence: b must have shape (T,) or (T, n) with T >= 1, got {b.shape}")
    a, x0 = as_expr(a), as_expr(x0)
    T = b.shape[0]
    n = b.shape[1] if b.ndim == 2 else 1
    try:
        a = a if a.shape == b.shape else broadcast_to(a, b.shape)
        x0 = x0 if x0.shape == (n,) else broadcast_to(x0, (n,))
    except ValueError:
        raise ValueError(f"linear_recurrence: a of shape {a.shape} and x0 of shape {x0.shape} do not broadcast to "
                         f"b's {b.shape} and ({n},)") from None
    values = [constant_value(v) for v in (a, b, x0)]
    if all(v is not None for v in values):
        return Const(numpy_recurrence(*(np.asarray(v, dtype=np.float64)[None] for v in values)))
    return Op("recurrence", [a, b, x0], b.shape)


def numpy_recurrence(a, b, x0):
    """The recurrence over a batch axis first: a, b (B, T[, n]), x0 (B, n) -> (B, T[, n])."""
    x = np.empty_like(np.asarray(b, dtype=np.float64))
    prev = x0.reshape((x.shape[0],) + x.shape[2:])
    for t in range(x.shape[1]):
        prev = a[:, t] * prev + b[:, t]
        x[:, t] = prev
    return x
