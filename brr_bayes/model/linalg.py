"""Linear algebra on parameter matrices: Cholesky factor, triangular solve, log-determinant.

Each is one C++ op with its reverse-mode adjoint (csrc/ad/ops_linalg.cpp); shapes are those of
covariance matrices (K up to a few hundred). Exposed as ``bb.math.cholesky``,
``bb.math.solve_lower_triangular`` and ``bb.math.logdet_spd``.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg as sla

from .. import ops, portable
from .expr import Const, Op, as_expr, constant_value, gather, reduce_sum, unary


def cholesky(A):
    """The lower-triangular L with L @ L.T == A for a symmetric positive-definite (K, K) expression.

    Only A's lower triangle is read. A matrix that is not positive definite gives NaN (the sampler
    rejects the point), as Stan's ``cholesky_decompose`` rejects it.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     s = bb.HalfNormal("s", 1)
        ...     L = bb.Deterministic("L", bb.math.cholesky(np.eye(2) + s * np.ones((2, 2))))
        >>> np.round(m.constrain(np.array([0.0]))["L"], 4).tolist()
        [[1.4142, 0.0], [0.7071, 1.2247]]
    """
    A = as_expr(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"cholesky: needs a square (K, K) matrix, got shape {A.shape}")
    v = constant_value(A)
    if v is not None:
        try:
            return Const(portable.cholesky(np.asarray(v, dtype=np.float64)))
        except np.linalg.LinAlgError:
            raise ValueError("cholesky: the data matrix is not positive definite") from None
    return Op("cholesky", [A], A.shape)


def solve_lower_triangular(L, b):
    """x with L @ x == b for a lower-triangular (K, K) L and b of shape (K,) or (K, m); forward substitution.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     d = bb.HalfNormal("d", 1)
        ...     x = bb.Deterministic("x", bb.math.solve_lower_triangular(np.array([[2.0, 0], [1, 1]]) * d, np.ones(2)))
        >>> m.constrain(np.array([0.0]))["x"].tolist()
        [0.5, 0.5]
    """
    L, b = as_expr(L), as_expr(b)
    if L.ndim != 2 or L.shape[0] != L.shape[1] or b.ndim not in (1, 2) or b.shape[0] != L.shape[0]:
        raise ValueError(f"solve_lower_triangular: L must be (K, K) and b (K,) or (K, m) with the same K, got "
                         f"{L.shape} and {b.shape}")
    lv, bv = constant_value(L), constant_value(b)
    if lv is not None and bv is not None:
        return Const(sla.solve_triangular(np.asarray(lv, dtype=np.float64), np.asarray(bv, dtype=np.float64),
                                          lower=True))
    return Op("trisolve", [L, b], b.shape)


def logdet_spd(A):
    """log det A for a symmetric positive-definite (K, K) expression, as 2 sum(log(diag(cholesky(A))))."""
    L = cholesky(A)
    K = L.shape[0]
    return 2.0 * reduce_sum(unary(ops.LOG, gather(L.reshape((K * K,)), np.arange(K) * (K + 1))))


def numpy_cholesky(A):
    """Cholesky factors over a batch axis first (B, K, K); NaN where a matrix is not positive definite."""
    out = np.full_like(A, np.nan)
    for i, a in enumerate(A):
        try:
            out[i] = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            pass
    return out


def numpy_trisolve(L, b):
    """Lower-triangular solves over a batch axis first: L (B, K, K), b (B, K[, m])."""
    return np.stack([sla.solve_triangular(Li, bi, lower=True) for Li, bi in zip(L, b)])
