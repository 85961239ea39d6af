"""Ordinary differential equations inside a model: ``bb.ode.solve``.

The right-hand side is Python over expressions, traced once (function.py); the C++ OdeSolve op
integrates it with an explicit Runge-Kutta 5(4) pair (Dormand-Prince, for non-stiff systems) or
variable-order BDF (for stiff ones), and differentiates the solution by forward sensitivities, so
parameters of the right-hand side, the initial state, or both, can be sampled.
"""
from __future__ import annotations

import numbers

import numpy as np

from .expr import Const, Op, as_expr
from .function import Traced

METHODS = {"rk45": 0, "bdf": 1}


def solve(rhs, y0, times, *, t0=0.0, method="rk45", rtol=1e-6, atol=1e-6, max_steps=100_000):
    """y(t) at ``times`` for dy/dt = rhs(t, y), y(t0) = y0; an expression of shape (len(times), len(y0)).

    ``rhs(t, y)`` returns the derivative as an expression of y's shape or a list of scalars, and may use
    model parameters directly (they are captured and receive gradients). ``y0`` may be data or
    parameters. ``times``: data, increasing, each >= t0. ``method``: "rk45" (non-stiff) or "bdf" (stiff:
    widely separated time scales, where rk45 needs tiny steps). A solve that exceeds ``max_steps`` step
    attempts gives NaN, which the sampler rejects like any non-finite density.

    Example (Lotka-Volterra predator-prey populations):
        >>> import numpy as np, brr_bayes as bb
        >>> times = np.arange(1.0, 6.0)
        >>> with bb.Model() as m:
        ...     alpha, beta = bb.LogNormal("alpha", 0, 0.5), bb.LogNormal("beta", -3, 0.5)
        ...     gamma, delta = bb.LogNormal("gamma", 0, 0.5), bb.LogNormal("delta", -3, 0.5)
        ...     def rhs(t, z):
        ...         u, v = z[0], z[1]
        ...         return [(alpha - beta * v) * u, (-gamma + delta * u) * v]
        ...     z = bb.ode.solve(rhs, [30.0, 4.0], times)
        >>> z.shape
        (5, 2)
    """
    what = "bb.ode.solve"
    if method not in METHODS:
        raise ValueError(f"{what}: method must be one of {sorted(METHODS)}, got {method!r}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not isinstance(v, numbers.Real) or not np.isfinite(v) or v <= 0:
            raise ValueError(f"{what}: {name} must be a positive number, got {v!r}")
    if not isinstance(max_steps, numbers.Integral) or max_steps < 1:
        raise ValueError(f"{what}: max_steps must be a positive integer, got {max_steps!r}")
    if not isinstance(t0, numbers.Real) or not np.isfinite(t0):
        raise ValueError(f"{what}: t0 must be a finite number, got {t0!r}")
    ts = np.asarray(times, dtype=np.float64)
    if ts.ndim != 1 or ts.size < 1:
        raise ValueError(f"{what}: times must be a non-empty 1-d array of data, got shape {ts.shape}")
    if not np.all(np.isfinite(ts)) or np.any(np.diff(ts) <= 0) or ts[0] < t0:
        raise ValueError(f"{what}: times must be finite, strictly increasing and >= t0 = {t0}; got {ts[:5]}...")
    y0 = as_expr(y0)
    if y0.ndim != 1 or y0.size < 1:
        raise ValueError(f"{what}: y0 must be a vector of initial states, got shape {y0.shape}")
    if isinstance(y0, Const) and not np.all(np.isfinite(y0.value)):
        raise ValueError(f"{what}: y0 holds NaN or infinite values: {y0.value}")
    n = y0.size
    traced = Traced(rhs, [(), (n,)], ["t", "y"], (n,), what)
    args = [y0]
    theta = traced.captured_vector()
    if theta is not None:
        args.append(theta)
    return Op("ode", args, (ts.size, n), function=traced, times=ts, t0=float(t0), method=METHODS[method],
              rtol=float(rtol), atol=float(atol), max_steps=int(max_steps), params=traced.captured_size)


__all__ = ["solve", "METHODS"]
