"""Pathfinder (Zhang, Carpenter, Gelman & Vehtari 2022): quasi-Newton variational inference, used to
start NUTS chains in the bulk of the posterior instead of at uniform(-2, 2) points.

Each path runs L-BFGS on -log p from a random start (restarted where its line search stalls far from
a stationary point) and, at every iterate, forms the normal
approximation whose covariance is L-BFGS's inverse-Hessian estimate (diagonal plus low rank, the
paper's factored form); the iterate whose approximation has the highest ELBO (Monte Carlo) is the
path's answer. Several paths' draws are pooled and importance-resampled with Pareto-smoothed
weights, so paths that stopped in a minor mode lose their weight.

The starting points feed the sampler, so nothing that reaches them uses BLAS or LAPACK (whose kernels,
picked per CPU, sum in their own order): L-BFGS is brr_bayes.infer.lbfgs, and the chosen iterate's
normal approximation and its draws use brr_bayes.portable. Only the ELBOs that rank the iterates are
computed with BLAS (4x faster): they move in their last bits between machines, far below the gaps between
iterates. The same seed gives the same draws on every x86-64 machine, whatever BLAS threads are set to.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg
from threadpoolctl import threadpool_limits

from .. import portable
from ..model import Model
from .lbfgs import minimize_lbfgs
from .seeds import resolve_seed


@dataclass
class PathfinderResult:
    """Resampled approximate posterior draws and what each path found."""
    unconstrained: np.ndarray            # (draws, dim), importance-resampled
    draws: dict                          # {name: (draws, *shape)} constrained values of the same draws
    pareto_k: float                      # PSIS shape of the pooled importance weights (> 0.7: a rough fit)
    elbo: list = field(default_factory=list)        # per path, the best iterate's ELBO estimate
    iterations: list = field(default_factory=list)  # per path, L-BFGS iterations
    log_weights: np.ndarray | None = None           # pooled (paths * draws_per_path,) smoothed log weights
    pooled: np.ndarray | None = None                # the paths' draws before resampling, (paths * draws_per_path, dim)

    def initial_points(self, n, seed=0):
        """n distinct starting points (unconstrained): pooled draws picked without replacement with
        probability proportional to their importance weights (resampled draws repeat points, and chains
        that start together learn nothing from each other)."""
        rng = np.random.default_rng([resolve_seed(seed), 7])
        w = _probabilities(self.log_weights)
        k = int(np.count_nonzero(w))
        if k >= n:
            pick = rng.choice(len(w), size=n, replace=False, p=w)
        else:   # fewer usable draws than chains: every usable one, then repeats
            pick = np.concatenate([np.flatnonzero(w), rng.choice(len(w), size=n - k, p=w)])
        return [self.pooled[i].copy() for i in pick]


def pathfinder(model, *, paths=4, draws=1000, seed=None, maxiter=1000, history=6, elbo_draws=10,
               draws_per_path=None):
    """Multi-path Pathfinder approximation of ``model``'s posterior.

    ``paths`` independent L-BFGS runs (each from uniform(-2, 2) on the unconstrained scale) with
    ``history`` curvature pairs; ``elbo_draws`` Monte Carlo draws score each iterate; ``draws`` are
    returned after Pareto-smoothed importance resampling of all paths' draws. Reproducible: the same
    seed gives the same draws on every x86-64 machine (no BLAS: see the module's notes).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 10)
        ...     _ = bb.Normal("y", mu, 1, observed=np.array([2.1, 1.9, 2.3]))
        >>> fit = bb.pathfinder(m, seed=1)
        >>> bool(abs(fit.draws["mu"].mean() - 2.1) < 0.3)
        True
    """
    if not isinstance(model, Model):
        raise TypeError(f"pathfinder: pass a bb.Model, got {type(model).__name__}")
    for name, v, lo in (("paths", paths, 1), ("draws", draws, 1), ("maxiter", maxiter, 1), ("history", history, 1),
                        ("elbo_draws", elbo_draws, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"pathfinder: {name} must be an integer >= {lo}, got {v!r}")
    seed = resolve_seed(seed)
    per_path = int(draws_per_path or draws)
    comp = model.compiled
    pooled, logw, elbos, iters, failures = [], [], [], [], []
    # one BLAS thread for the iterates' scoring: its matrices are small, and numpy's and scipy's OpenBLAS
    # pools spun against each other on 2 cores (W4 13.0 s -> 10.8 s)
    with threadpool_limits(limits=1, user_api="blas"):
        for p in range(paths):
            rng = np.random.default_rng([seed, p])
            phi, lp, lq, elbo, n_iter, failure = _one_path(comp, rng, maxiter, history, elbo_draws, per_path)
            pooled.append(phi)
            logw.append(lp - lq)
            elbos.append(elbo)
            iters.append(n_iter)
            if failure:
                failures.append(f"path {p}: {failure}")
    phi, logw = np.concatenate(pooled), np.concatenate(logw)
    logw = np.where(np.isfinite(logw), logw, -np.inf)
    if not np.isfinite(logw).any():
        why = "; ".join(failures) or "the log density is not finite at any approximate draw"
        raise RuntimeError(f"pathfinder: every path failed ({why}). Check the model's log density at a few points "
                           "(model.logp), its priors and constraints, or start the sampler with init=")
    smoothed, k = _psis(logw)
    rng = np.random.default_rng([seed, paths])
    pick = rng.choice(len(phi), size=draws, replace=True, p=_probabilities(smoothed))
    X = phi[pick]
    finite = [e for e in elbos if np.isfinite(e)]
    if len(finite) > 1 and max(finite) - min(finite) > 10:
        warnings.warn(f"pathfinder: the paths' ELBOs range over {max(finite) - min(finite):.0f} nats: some paths "
                      "stopped in a different mode (or a poorer region); resampling favours the best, but check the "
                      "posterior for several modes", stacklevel=2)
    return PathfinderResult(X, comp.constrain_many(X), float(k), elbos, iters, smoothed, phi)


def _one_path(comp, rng, maxiter, history, elbo_draws, draws):
    """(draws, their log p, their log q, best ELBO, iterations, why it failed or None) of one path."""
    d = comp.dim
    cache = {}

    def logp_grad(x):
        key = x.tobytes()
        if key not in cache:
            lp, g = comp.logp_and_grad(x)
            cache[key] = (lp, g)
        return cache[key]

    def objective(x):
        lp, g = logp_grad(np.ascontiguousarray(x))
        if not np.isfinite(lp) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros(d)
        return -lp, -g

    for _ in range(100):   # like the sampler's own starts: retry where the density is not finite
        x0 = rng.uniform(-2, 2, d)
        if np.isfinite(objective(x0)[0]):
            break
    else:
        empty = np.zeros((draws, d))
        return empty, np.full(draws, -np.inf), np.zeros(draws), -np.inf, 0, \
            "the log density or its gradient is not finite at 100 random starts in (-2, 2)"
    xs = [x0.copy()]
    x, f = x0, objective(x0)[0]
    # L-BFGS also stops when its line search stalls far from a stationary point: on a hierarchical model's
    # first steps it overshoots a scale towards 0, where every gradient fades, and stalls on the way back
    # (W3: stopped at log p -10,576 with |grad| 2,430, the posterior's bulk being at -4,500). Restarted from
    # there with fresh curvature memory it goes on; the path is the iterates of all the runs, within maxiter.
    for _ in range(10):
        res = minimize_lbfgs(objective, x, maxiter=maxiter - (len(xs) - 1), history=history,
                             callback=lambda xk: xs.append(xk.copy()))
        stalled = np.isfinite(res.fun) and res.fun < f and np.max(np.abs(res.jac)) > 1e-5 * max(1.0, abs(res.fun))
        x, f = res.x, min(f, res.fun)
        if not stalled or len(xs) - 1 >= maxiter:
            break
    X = np.array(xs)
    G = np.array([logp_grad(np.ascontiguousarray(x))[1] for x in X])
    best = (-np.inf, None)
    alpha = np.ones(d)
    pairs = []  # accepted (s, z) curvature pairs, z = change in the gradient of -log p
    for ell in range(1, len(X)):
        s, z = X[ell] - X[ell - 1], -(G[ell] - G[ell - 1])
        if portable.dot(s, z) > 1e-12 * np.sqrt(portable.dot(z, z)):
            alpha = _next_alpha(alpha, s, z)
            pairs.append((s, z))
            pairs = pairs[-history:]
        if not pairs or not np.all(np.isfinite(G[ell])):
            continue
        approx = _normal_approximation(X[ell], G[ell], alpha, pairs, _FAST)
        if approx is None:
            continue
        phi, lq = _draw(approx, rng, elbo_draws, _FAST)
        lp = np.array([comp.logp(x) for x in phi])
        elbo = np.mean(np.where(np.isfinite(lp), lp, -np.inf) - lq)
        if elbo > best[0]:
            best = (elbo, (ell, alpha.copy(), list(pairs)))
    # the chosen approximation again, without BLAS: its draws are the path's answer (the scoring above only
    # ranks the iterates, by ELBOs that BLAS's kernels move in the last bits, far below their differences)
    chosen = None if best[1] is None else _normal_approximation(X[best[1][0]], G[best[1][0]], best[1][1], best[1][2],
                                                                _PORTABLE)
    if chosen is None:   # no usable curvature (a flat or one-step path): a unit normal at the end point
        best, chosen = (-np.inf, None), (X[-1], np.ones(d), np.zeros((d, 0)), np.zeros((0, 0)))
    phi, lq = _draw(chosen, rng, draws, _PORTABLE)
    lp = np.array([comp.logp(x) for x in phi])
    failure = None if np.isfinite(lp).any() else (
        f"the log density is not finite at any of its {draws} draws (L-BFGS ended at log p {-f:.6g} "
        f"after {len(X) - 1} iterations)")
    return phi, lp, lq, float(best[0]), len(X) - 1, failure


def _next_alpha(alpha, s, z):
    """The diagonal of the inverse-Hessian estimate after the pair (s, z) (Zhang et al., Algorithm 3)."""
    a, b, c = portable.dot(z, alpha * z), portable.dot(z, s), portable.dot(s, s / alpha)
    inv = a / (b * alpha) + z ** 2 / b - a * s ** 2 / (b * c * alpha ** 2)
    new = 1.0 / inv
    return np.where(np.isfinite(new) & (new > 0), new, alpha)


class _Algebra:
    """The few products and factorisations of the factored normal, from one source or the other."""

    def __init__(self, matmul, solve_upper, qr, cholesky):
        self.matmul, self.solve_upper, self.qr, self.cholesky = matmul, solve_upper, qr, cholesky


# BLAS and LAPACK, fast on small matrices, for scoring the iterates; portable, for the draws that are kept
_FAST = _Algebra(np.matmul, lambda R, B: linalg.solve_triangular(R, B, lower=False, check_finite=False),
                 lambda A: linalg.qr(np.asfortranarray(A), mode="economic", check_finite=False), np.linalg.cholesky)
_PORTABLE = _Algebra(portable.matmul, portable.solve_upper, portable.qr, portable.cholesky)


def _normal_approximation(x, g, alpha, pairs, la):
    """(mean, alpha, beta, gamma): covariance diag(alpha) + beta gamma beta^T, the mean a Newton step from x."""
    S = np.column_stack([p[0] for p in pairs])
    Z = np.column_stack([p[1] for p in pairs])
    J = S.shape[1]
    StZ = la.matmul(S.T, Z)
    R = np.triu(StZ) + np.eye(J) * np.finfo(float).eps
    if not np.all(np.abs(np.diag(R)) > 0):
        return None
    minvR = -la.solve_upper(R, np.eye(J))
    alphaZ = np.sqrt(alpha)[:, None] * Z
    block = la.matmul(la.matmul(minvR.T, la.matmul(alphaZ.T, alphaZ) + np.diag(np.diag(StZ))), minvR)
    beta = np.hstack([alpha[:, None] * Z, S])
    gamma = np.block([[np.zeros((J, J)), minvR], [minvR.T, block]])
    mean = x + alpha * g + la.matmul(beta, la.matmul(gamma, la.matmul(beta.T, g)))
    if not np.all(np.isfinite(mean)):
        return None
    return mean, alpha, beta, gamma


def _draw(approx, rng, n, la):
    """n draws from the factored normal and their log densities (Zhang et al., Algorithm 4)."""
    mean, alpha, beta, gamma = approx
    d = mean.size
    u = rng.standard_normal((n, d))
    logdet = np.sum(np.log(alpha))
    if beta.shape[1]:
        Q, R = la.qr(beta / np.sqrt(alpha)[:, None])
        M = np.eye(R.shape[0]) + la.matmul(la.matmul(R, gamma), R.T)
        try:
            L = la.cholesky(M)
        except np.linalg.LinAlgError:
            L = np.eye(R.shape[0])  # the low-rank part is not positive definite: keep the diagonal
        logdet += 2 * np.sum(np.log(np.diag(L)))
        core = la.matmul(la.matmul(la.matmul(u, Q), (L - np.eye(L.shape[0])).T), Q.T) + u
    else:
        core = u
    phi = mean + np.sqrt(alpha) * core
    lq = -0.5 * (logdet + np.sum(u * u, axis=1) + d * np.log(2 * np.pi))
    return phi, lq


def _psis(logw):
    """Pareto-smoothed log weights and the shape k (arviz's psislw).

    Where the weights are equal to rounding (the approximation is the posterior up to a constant: a normal
    model), there is no tail to fit and arviz's fit returns NaN weights: they are kept as they are, k = -inf."""
    import arviz as az
    finite = np.isfinite(logw)
    out = np.full_like(logw, -np.inf)
    lw = logw[finite]
    if np.ptp(lw) <= 1e-9 * max(1.0, float(np.max(np.abs(lw)))):
        out[finite] = lw
        return out, -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm, k = az.psislw(lw)
    sm = np.asarray(sm)
    if not np.all(np.isfinite(sm)):   # the tail fit failed: the raw weights, and no shape to report
        out[finite] = lw
        return out, float("nan")
    out[finite] = sm
    return out, float(np.asarray(k))


def _probabilities(log_weights):
    """Normalised resampling probabilities from log weights, in log space (no overflow, no NaN): -inf
    and NaN weigh nothing."""
    lw = np.where(np.isfinite(log_weights), log_weights, -np.inf)
    with np.errstate(over="ignore"):
        p = np.exp(lw - np.max(lw))       # the largest weighs 1: no overflow, whatever the scale
    return p / np.sum(p)


__all__ = ["pathfinder", "PathfinderResult"]
