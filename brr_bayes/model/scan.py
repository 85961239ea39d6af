"""A loop over time as one op: x[t] = step(x[t-1], u[t]) for any step written in expressions.

Nonlinear state-space models, GARCH-type variance recursions, logistic growth and SIR-type
compartment updates are loops whose step is a small expression; written out step by step they make
a graph as long as the series. Here the step is traced once (function.py) and the C++ Scan op runs
it T times forward and as vector-Jacobian products backward.
"""
from __future__ import annotations

import numbers

import numpy as np

from .expr import Op, as_expr, reshape
from .function import Traced


def scan(step, x0, inputs=None, length=None):
    """States x[0..T-1] of x[t] = step(x[t-1], u[t]) (or step(x[t-1]) without inputs), x[-1] = x0.

    ``x0`` is the initial state (a scalar or a vector, data or parameters); ``inputs`` an array or
    expression whose first axis is time (u[t] = inputs[t]); without inputs give ``length``. The step
    may use model parameters directly; they are captured, and the gradient reaches them. Returns an
    expression of shape (T, *x0.shape).

    Example (a GARCH(1,1) variance recursion s[t] = omega + alpha e[t-1]^2 + beta s[t-1]):
        >>> import numpy as np, brr_bayes as bb
        >>> e = np.array([0.1, -0.3, 0.2, 0.05])
        >>> with bb.Model() as m:
        ...     omega = bb.HalfNormal("omega", 1)
        ...     alpha, beta = bb.Uniform("alpha", 0, 0.5), bb.Uniform("beta", 0, 0.5)
        ...     e_prev = np.concatenate([[0.0], e[:-1]])
        ...     s = bb.math.scan(lambda s_prev, e_t: omega + alpha * e_t**2 + beta * s_prev, 0.1, e_prev)
        ...     _ = bb.Normal("e", 0, bb.math.sqrt(s), observed=e)
        >>> s.shape
        (4,)
    """
    x0 = as_expr(x0)
    if x0.ndim > 1 or x0.size < 1:
        raise ValueError(f"bb.math.scan: x0 must be a scalar or a vector, got shape {x0.shape}")
    if inputs is None:
        if length is None or not isinstance(length, numbers.Integral) or length < 1:
            raise ValueError(f"bb.math.scan: without inputs, pass length= (a positive integer), got {length!r}")
        T, u, ushape = int(length), None, None
        traced = Traced(step, [x0.shape], ["x_prev"], x0.shape, "bb.math.scan")
    else:
        u = as_expr(inputs)
        if u.ndim < 1 or u.shape[0] < 1 or u.size == 0:
            raise ValueError(f"bb.math.scan: inputs must have a time axis first with at least one step, got shape "
                             f"{u.shape}")
        if length is not None and length != u.shape[0]:
            raise ValueError(f"bb.math.scan: length={length} but inputs have {u.shape[0]} steps")
        T, ushape = u.shape[0], u.shape[1:]
        traced = Traced(step, [x0.shape, ushape], ["x_prev", "u_t"], x0.shape, "bb.math.scan")
    args = [reshape(x0, (x0.size,))]
    k = 0 if u is None else int(np.prod(ushape, dtype=np.int64))
    if u is not None:
        args.append(reshape(u, (u.size,)))
    theta = traced.captured_vector()
    if theta is not None:
        args.append(theta)
    return Op("scan", args, (T,) + x0.shape, function=traced, steps=T, state=x0.size, inputs=k,
              params=traced.captured_size)
