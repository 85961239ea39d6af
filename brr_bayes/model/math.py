"""Elementwise and reduction functions on model expressions (numpy semantics, broadcasting).

Example:
    >>> import brr_bayes as bb
    >>> with bb.Model():
    ...     x = bb.Normal("x", 0, 1, shape=3)
    ...     p = bb.math.inv_logit(x)
"""
import numpy as np

from .. import ops
from .linalg import cholesky, logdet_spd, solve_lower_triangular
from .recurrence import linear_recurrence
from .scan import scan
from .expr import (as_expr, broadcast_to, concatenate, cumsum, elementwise, logsumexp, reduce_mean, reduce_sum,
                   reshape, softmax, stack, transpose, unary)


def exp(x): return unary(ops.EXP, x)
def log(x): return unary(ops.LOG, x)
def log1p(x): return unary(ops.LOG1P, x)
def expm1(x): return unary(ops.EXPM1, x)
def logit(x): return unary(ops.LOGIT, x)
def inv_logit(x): return unary(ops.INV_LOGIT, x)
def log_inv_logit(x): return unary(ops.LOG_INV_LOGIT, x)
def log1m_inv_logit(x): return unary(ops.LOG1M_INV_LOGIT, x)
def softplus(x): return unary(ops.SOFTPLUS, x)
def sqrt(x): return unary(ops.SQRT, x)
def square(x): return unary(ops.SQUARE, x)
def tanh(x): return unary(ops.TANH, x)
def abs(x): return unary(ops.ABS, x)  # noqa: A001 - numpy's name
def gammaln(x): return unary(ops.LGAMMA, x)
def erf(x): return unary(ops.ERF, x)  # gradient 2/sqrt(pi) exp(-x^2)


sigmoid = inv_logit
log_sum_exp = logsumexp


def sum(x, axis=None, keepdims=False): return reduce_sum(x, axis, keepdims)  # noqa: A001
def mean(x, axis=None, keepdims=False): return reduce_mean(x, axis, keepdims)


def where(cond, a, b):
    """``a`` where ``cond`` is true (non-zero), else ``b``, elementwise with numpy broadcasting; the gradient
    flows to the chosen branch only.

    ``cond`` is data (a boolean or 0/1 array) or a comparison of expressions (``x > 0``, ``t >= 10`` in an
    ODE's right-hand side): comparisons give 1.0 or 0.0 and have no gradient. As with numpy.where and
    JAX's, both branches are computed everywhere, so the branch not taken must stay finite there: write
    ``where(x > 0, log(where(x > 0, x, 1.0)), 0.0)``, not ``where(x > 0, log(x), 0.0)``.

    Example:
        >>> import brr_bayes as bb
        >>> with bb.Model() as m:
        ...     x = bb.Normal("x", 0, 1, shape=3)
        ...     hinge = bb.math.where(x > 0, x, 0.0)     # max(x, 0), gradient 1 where x > 0, else 0
        >>> hinge.shape
        (3,)
    """
    cond, a, b = as_expr(cond), as_expr(a), as_expr(b)
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        shape = None  # elementwise() names the shapes
    if shape is not None:  # branches at full size: each adjoint is then per element (a broadcast one sums back)
        a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    return elementwise(ops.WHERE, cond, a, b)


def logaddexp(a, b):
    """log(exp(a) + exp(b)), stable, elementwise."""
    a, b = as_expr(a), as_expr(b)
    return logsumexp(stack([a + 0.0 * b, b + 0.0 * a], axis=-1), axis=-1)


__all__ = ["exp", "log", "log1p", "expm1", "logit", "inv_logit", "sigmoid", "log_inv_logit", "log1m_inv_logit",
           "softplus", "sqrt", "square", "tanh", "abs", "gammaln", "erf", "sum", "mean", "logsumexp", "log_sum_exp",
           "softmax", "cumsum", "concatenate", "stack", "reshape", "transpose", "logaddexp", "cholesky",
           "solve_lower_triangular", "logdet_spd", "linear_recurrence", "scan", "where"]
