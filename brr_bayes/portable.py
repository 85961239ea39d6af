"""Linear algebra whose bits do not depend on the machine, for whatever reaches a program or the draws.

numpy's ``@``, ``np.dot``, ``np.linalg`` and scipy's LAPACK run OpenBLAS, which picks its kernels by CPU
at load time (SkylakeX on an AVX-512 EPYC, Zen or Haswell on the one before): each kernel sums in its
own order, so a constant computed with them (BYM2's scaling factor, a merged cell's sum of squares,
Pathfinder's starting points) differed in its last bits between machines, and so did every draw after
it. The functions here use only elementwise numpy operations and ``np.sum`` along a contiguous axis
(numpy's pairwise summation, the same code and order on every x86-64 CPU): the same inputs give the
same bits whatever BLAS, its kernel choice or its thread count. They are for small and medium matrices
(a few thousand rows); the sampler's own linear algebra lives in the C++ core, which uses no BLAS.

Example:
    >>> import numpy as np
    >>> from brr_bayes import portable
    >>> A = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> L = portable.cholesky(A)
    >>> bool(np.allclose(portable.matmul(L, L.T), A))
    True
"""
from __future__ import annotations

import numpy as np

_CHUNK = 1 << 22   # elements of the broadcast product formed at once (32 MiB of float64)


def dot(a, b) -> float:
    """sum(a * b) of two 1-d arrays, in numpy's pairwise order (``np.dot`` calls BLAS's ddot)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float((a * b).sum())


def matmul(a, b):
    """a @ b for 1-d or 2-d float arrays, each entry a pairwise sum of elementwise products.

    Example:
        >>> import numpy as np
        >>> matmul(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]))
        array([[11.]])
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    vec_a, vec_b = a.ndim == 1, b.ndim == 1
    A = a[None, :] if vec_a else a
    B = b[:, None] if vec_b else b
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"portable.matmul: shapes {a.shape} and {b.shape} do not multiply")
    n, k = A.shape
    m = B.shape[1]
    Bt = np.ascontiguousarray(B.T)          # (m, k): each product row is contiguous along k
    out = np.empty((n, m))
    rows = max(1, _CHUNK // max(1, k * m))
    for r0 in range(0, n, rows):
        r1 = min(n, r0 + rows)
        out[r0:r1] = np.sum(A[r0:r1, None, :] * Bt[None, :, :], axis=-1)
    if vec_a:
        out = out[0]
    if vec_b:
        out = out[..., 0]
    return out


def cholesky(A, bandwidth=None):
    """The lower-triangular L with L @ L.T == A for a symmetric positive-definite A.

    ``bandwidth``: A[i, j] == 0 where |i - j| > bandwidth (then so is L below the band and the cost is
    n * bandwidth**2 instead of n**3 / 3). Raises ``np.linalg.LinAlgError`` if A is not positive definite.
    """
    W = np.array(A, dtype=np.float64, copy=True)
    n = W.shape[0]
    if W.ndim != 2 or W.shape[1] != n:
        raise ValueError(f"portable.cholesky: need a square matrix, got shape {W.shape}")
    b = n - 1 if bandwidth is None else int(bandwidth)
    L = np.zeros_like(W)
    for j in range(n):
        d = W[j, j]
        if not d > 0 or not np.isfinite(d):
            raise np.linalg.LinAlgError(f"portable.cholesky: matrix is not positive definite (pivot {j} is {d!r})")
        ljj = np.sqrt(d)
        e = min(n, j + b + 1)
        L[j, j] = ljj
        col = W[j + 1:e, j] / ljj
        L[j + 1:e, j] = col
        W[j + 1:e, j + 1:e] -= col[:, None] * col[None, :]
    return L


def solve_lower(L, B):
    """X with L @ X == B for a lower-triangular L (forward substitution; B of shape (n,) or (n, m))."""
    L = np.asarray(L, dtype=np.float64)
    X = np.array(B, dtype=np.float64, copy=True)
    for i in range(L.shape[0]):
        if i:
            X[i] -= np.sum(L[i, :i, None] * X[:i].reshape(i, -1), axis=0).reshape(X[i].shape)
        X[i] /= L[i, i]
    return X


def solve_upper(U, B):
    """X with U @ X == B for an upper-triangular U (back substitution; B of shape (n,) or (n, m))."""
    U = np.asarray(U, dtype=np.float64)
    X = np.array(B, dtype=np.float64, copy=True)
    n = U.shape[0]
    for i in range(n - 1, -1, -1):
        if i < n - 1:
            X[i] -= np.sum(U[i, i + 1:, None] * X[i + 1:].reshape(n - i - 1, -1), axis=0).reshape(X[i].shape)
        X[i] /= U[i, i]
    return X


def qr(A):
    """Economic QR of an (n, k) matrix by Householder reflections: with K = min(n, k), Q (n, K) with
    orthonormal columns and upper-triangular (trapezoidal where k > n) R (K, k), A == Q @ R."""
    R = np.array(A, dtype=np.float64, copy=True)
    n, k = R.shape
    K = min(n, k)
    vs = []
    for j in range(K):
        x = R[j:, j]
        norm = np.sqrt(dot(x, x))
        v = x.copy()
        v[0] += norm if x[0] >= 0 else -norm
        vv = dot(v, v)
        if vv > 0:
            v /= np.sqrt(vv)
            R[j:, j:] -= 2.0 * v[:, None] * matmul(v, R[j:, j:])[None, :]
        vs.append(v)
    Q = np.eye(n, K)
    for j in range(K - 1, -1, -1):
        v = vs[j]
        Q[j:, :] -= 2.0 * v[:, None] * matmul(v, Q[j:, :])[None, :]
    return Q, np.triu(R[:K])


def banded_inverse_diagonal(L, bandwidth):
    """diag((L @ L.T)^{-1}) for a banded lower Cholesky factor L, without forming the inverse.

    Takahashi's recursion over the band (Rue & Held 2005, section 2.3.1): the inverse's entries inside
    the band follow from L and the entries after them, so the cost is n * bandwidth**2.
    """
    L = np.asarray(L, dtype=np.float64)
    n = L.shape[0]
    b = int(bandwidth)
    S = np.zeros((n, n))                    # entries of the inverse inside the band, filled from the end
    for j in range(n - 1, -1, -1):
        e = min(n, j + b + 1)
        ljj = L[j, j]
        col = L[j + 1:e, j]
        if e > j + 1:
            below = -np.sum(S[j + 1:e, j + 1:e] * col[None, :], axis=1) / ljj
            S[j + 1:e, j] = below
            S[j, j + 1:e] = below
            S[j, j] = 1.0 / (ljj * ljj) - dot(col, below) / ljj
        else:
            S[j, j] = 1.0 / (ljj * ljj)
    return np.diag(S).copy()


__all__ = ["dot", "matmul", "cholesky", "solve_lower", "solve_upper", "qr", "banded_inverse_diagonal"]
