"""Elementwise and reduction functions on model expressions (numpy semantics, broadcasting).

Example:
    >>> import brr_bayes as bb
    >>> with bb.Model():
    ...     x = bb.Normal("x", 0, 1, shape=3)
    ...     p = bb.math.inv_logit(x)
"""
from .. import ops
from .linalg import cholesky, logdet_spd, solve_lower_triangular
from .recurrence import linear_recurrence
from .scan import scan
from .expr import (as_expr, concatenate, cumsum, logsumexp, reduce_mean, reduce_sum, reshape, softmax,
                   stack, transpose, unary)


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


def logaddexp(a, b):
    """log(exp(a) + exp(b)), stable, elementwise."""
    a, b = as_expr(a), as_expr(b)
    return logsumexp(stack([a + 0.0 * b, b + 0.0 * a], axis=-1), axis=-1)


__all__ = ["exp", "log", "log1p", "expm1", "logit", "inv_logit", "sigmoid", "log_inv_logit", "log1m_inv_logit",
           "softplus", "sqrt", "square", "tanh", "abs", "gammaln", "erf", "sum", "mean", "logsumexp", "log_sum_exp",
           "softmax", "cumsum", "concatenate", "stack", "reshape", "transpose", "logaddexp", "cholesky",
           "solve_lower_triangular", "logdet_spd", "linear_recurrence", "scan"]
