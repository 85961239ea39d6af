"""L-BFGS (Nocedal & Wright 2006, algorithms 7.4 and 3.5) for Pathfinder, with no BLAS underneath.

scipy's L-BFGS-B calls BLAS and LAPACK, whose kernels OpenBLAS picks per CPU: its iterates, and so
Pathfinder's starting points and every draw after them, differed in their last bits between machines.
Here every inner product is brr_bayes.portable.dot (numpy's pairwise sum of elementwise products), so the
same objective gives the same iterates everywhere. Stan's Pathfinder likewise runs its own L-BFGS.

Stopping as L-BFGS-B's defaults do: the largest gradient entry below ``gtol``, or a relative reduction
of the objective below ``ftol``; or the line search finds no acceptable step (``stalled``).

Example:
    >>> import numpy as np
    >>> from brr_bayes.infer.lbfgs import minimize_lbfgs
    >>> res = minimize_lbfgs(lambda x: (float(np.sum((x - 3.0) ** 2)), 2 * (x - 3.0)), np.zeros(4))
    >>> bool(np.allclose(res.x, 3.0)), res.status
    (True, 'converged')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import portable

FTOL = 1e7 * np.finfo(float).eps   # L-BFGS-B's factr = 1e7
GTOL = 1e-5                        # L-BFGS-B's pgtol


@dataclass
class LbfgsResult:
    x: np.ndarray
    fun: float
    jac: np.ndarray
    nit: int
    status: str        # "converged", "stalled" (no acceptable step), "maxiter"


def minimize_lbfgs(objective, x0, *, maxiter=1000, history=6, callback=None, ftol=FTOL, gtol=GTOL):
    """Minimise ``objective(x) -> (f, gradient)`` from ``x0``; ``callback(x)`` after each iteration.

    An objective of +inf (outside the support) makes the line search step back."""
    x = np.array(x0, dtype=np.float64, copy=True)
    f, g = objective(x)
    g = np.asarray(g, dtype=np.float64)
    pairs = []                       # (s, y, 1 / y's) of the last `history` accepted steps
    for it in range(int(maxiter)):
        if not np.isfinite(f):
            return LbfgsResult(x, float(f), g, it, "stalled")
        if np.max(np.abs(g)) <= gtol:
            return LbfgsResult(x, float(f), g, it, "converged")
        p = -_inverse_hessian_times(g, pairs)
        if not portable.dot(p, g) < 0:          # not a descent direction: forget the curvature
            pairs, p = [], -g
        step0 = 1.0 if pairs else min(1.0, 1.0 / np.sqrt(portable.dot(g, g)))
        found = _wolfe_line_search(objective, x, f, g, p, step0)
        if found is None:
            return LbfgsResult(x, float(f), g, it, "stalled")
        step, f_new, g_new = found
        x_new = x + step * p
        s, y = x_new - x, g_new - g
        sy = portable.dot(s, y)
        if sy > np.finfo(float).eps * portable.dot(y, y):
            pairs.append((s, y, 1.0 / sy))
            pairs = pairs[-history:]
        reduction = (f - f_new) / max(abs(f), abs(f_new), 1.0)
        x, f, g = x_new, f_new, g_new
        if callback is not None:
            callback(x)
        if reduction <= ftol:
            return LbfgsResult(x, float(f), g, it + 1, "converged")
    return LbfgsResult(x, float(f), g, int(maxiter), "maxiter")


def _inverse_hessian_times(g, pairs):
    """The two-loop recursion: H g for the L-BFGS inverse-Hessian estimate H of the stored pairs."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * portable.dot(s, q)
        alphas.append(a)
        q -= a * y
    if pairs:
        s, y, _ = pairs[-1]
        q *= portable.dot(s, y) / portable.dot(y, y)
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        b = rho * portable.dot(y, q)
        q += (a - b) * s
    return q


def _wolfe_line_search(objective, x, f0, g0, p, step, c1=1e-4, c2=0.9, max_evals=40):
    """A step along p meeting the strong Wolfe conditions, by bracketing and bisection:
    (step, f, gradient), or None where none was found. Past the support (f = inf) counts as too far."""
    d0 = portable.dot(g0, p)
    lo, hi = 0.0, np.inf
    best = None                       # the last step with sufficient decrease
    for _ in range(max_evals):
        f, g = objective(x + step * p)
        g = np.asarray(g, dtype=np.float64)
        if not np.isfinite(f) or f > f0 + c1 * step * d0 or (best is not None and f >= best[1]):
            hi = step
        else:
            d = portable.dot(g, p)
            if abs(d) <= -c2 * d0:
                return step, float(f), g
            best = (step, float(f), g)
            if d < 0:
                lo = step
            else:
                hi = step
        step = 0.5 * (lo + hi) if np.isfinite(hi) else 2.0 * step
        if hi - lo <= 1e-12 * max(1.0, hi):
            break
    return best
