"""Deterministic generators of the reference workloads W1-W4 and the shipped W5 data (same algorithm as
shared/workloads/make_data.py). Their linear algebra runs through brr_bayes.portable, not BLAS, so the
same bits come out on every machine: W3's scaling factor and true phi differ from make_data.py's LAPACK
values in the last digits (1e-11), every other array is equal byte for byte.

Every workload uses numpy.random.default_rng(565); index arrays are int32 and 0-based, counts int64.
W2 is the package's example survey (brr_bayes.examples), under its workload names here.
"""
from __future__ import annotations

import functools
import math
from importlib.resources import files

import numpy as np
import scipy.special

from brr_bayes import portable
from brr_bayes.examples.survey import SEED, SURVEY_BLOCKS as W2_BLOCKS
from brr_bayes.examples.survey import simulate_survey as make_w2, survey_census as w2_census


def _i32(a):   # index arrays as the models take them (the package's own helpers are private to it)
    return np.ascontiguousarray(a, dtype=np.int32)


def _i64(a):
    return np.ascontiguousarray(a, dtype=np.int64)


__all__ = ["W2_BLOCKS", "make_w1", "make_w2", "make_w3", "make_w4", "make_w5", "w2_census"]


def make_w1():
    """Eight schools."""
    y = np.array([28, 8, -3, 7, -1, 1, 18, 12], dtype=np.float64)
    sigma = np.array([15, 10, 16, 11, 9, 11, 10, 18], dtype=np.float64)
    return dict(J=np.int64(8), y=y, sigma=sigma)


def lattice_edges(nr, nc):
    """Rook adjacency of an nr x nc lattice, node id = row*nc + col; edges with node1 < node2."""
    ids = np.arange(nr * nc).reshape(nr, nc)
    horiz = np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], axis=1)
    vert = np.stack([ids[:-1, :].ravel(), ids[1:, :].ravel()], axis=1)
    e = np.concatenate([horiz, vert])
    return e[np.lexsort((e[:, 1], e[:, 0]))]


def icar_precision(n, edges):
    Q = np.zeros((n, n))
    i, j = edges[:, 0], edges[:, 1]
    Q[i, j] = -1.0
    Q[j, i] = -1.0
    Q[np.arange(n), np.arange(n)] = -Q.sum(axis=1)
    return Q


def bym2_scaling_factor_dense(Q):
    """Geometric mean of the diagonal of the generalised inverse of a connected ICAR precision Q, as
    make_data.py computes it (the inverse of Q + max(diag Q) sqrt(eps) I, conditioned on sum(phi) = 0),
    without LAPACK (brr_bayes.portable): the lattice's Q is banded, so its Cholesky factor and the
    diagonal of its inverse come from the band. The same bits on every machine; within 1e-9 of LAPACK's."""
    n = Q.shape[0]
    Q_pert = Q + np.eye(n) * Q.diagonal().max() * np.sqrt(np.finfo(float).eps)
    rows, cols = np.nonzero(Q)
    band = int(np.max(np.abs(rows - cols)))
    L = portable.cholesky(Q_pert, bandwidth=band)
    diag = portable.banded_inverse_diagonal(L, band)
    s1 = portable.solve_upper(L.T, portable.solve_lower(L, np.ones(n)))    # Sigma @ 1
    diag_c = diag - s1 ** 2 / np.sum(s1)
    return math.exp(math.fsum(math.log(v) for v in diag_c) / n)


@functools.lru_cache(maxsize=1)
def _w3_arrays():
    rng = np.random.default_rng(SEED)
    nr = nc = 30
    n = nr * nc
    edges = lattice_edges(nr, nc)
    Q = icar_precision(n, edges)
    sf = bym2_scaling_factor_dense(Q)
    alpha, beta, sigma, rho = 0.2, 0.3, 0.7, 0.6
    # phi ~ ICAR on the sum-to-zero subspace: x ~ N(0, (Q + 11')^{-1}) through its Cholesky factor, centred
    L = portable.cholesky(Q + np.ones((n, n)))
    x_ = portable.solve_upper(L.T, rng.standard_normal(n))
    phi = x_ - x_.mean()
    theta = rng.standard_normal(n)
    x = rng.standard_normal(n)
    E = rng.uniform(5.0, 50.0, size=n)
    eta = np.log(E) + alpha + beta * x + sigma * (np.sqrt(rho / sf) * phi + np.sqrt(1 - rho) * theta)
    y = rng.poisson(np.exp(eta))
    return dict(N=np.int64(n), N_edges=np.int64(len(edges)), node1=_i32(edges[:, 0]), node2=_i32(edges[:, 1]),
                E=E, log_E=np.log(E), x=x, y=_i64(y), scaling_factor=np.float64(sf), n_rows=np.int64(nr),
                n_cols=np.int64(nc), true_alpha=np.float64(alpha), true_beta=np.float64(beta),
                true_sigma=np.float64(sigma), true_rho=np.float64(rho), true_phi=phi, true_theta=theta)


def make_w3():
    """BYM2 spatial Poisson on a 30 x 30 lattice (generated once per process; each call gets its own copies)."""
    return {k: v.copy() for k, v in _w3_arrays().items()}


def make_w4():
    """Dynamic poll aggregation with random walks (100 days, 50 states, 20 pollsters, 2000 polls)."""
    rng = np.random.default_rng(SEED)
    T, S, H, P = 100, 50, 20, 2000
    sigma_nat, sigma_state, sigma_off, sigma_house = 0.03, 0.015, 0.3, 0.06
    z_nat = rng.standard_normal(T)
    z_state = rng.standard_normal((S, T))
    z_off = rng.standard_normal(S)
    z_house = rng.standard_normal(H)
    national = np.cumsum(sigma_nat * z_nat)
    state_rw = np.cumsum(sigma_state * z_state, axis=1)
    offset = sigma_off * z_off
    house = sigma_house * z_house
    t = np.sort(np.minimum(T - 1, np.floor(T * rng.beta(2.0, 1.0, size=P)).astype(np.int64)))
    s = rng.choice(S, size=P, p=rng.dirichlet(np.full(S, 1.5)))
    h = rng.choice(H, size=P, p=rng.dirichlet(np.full(H, 2.0)))
    n = rng.integers(300, 2001, size=P).astype(np.int64)
    eta = national[t] + offset[s] + state_rw[s, t] + house[h]
    y = rng.binomial(n, scipy.special.expit(eta))
    return dict(T=np.int64(T), S=np.int64(S), H=np.int64(H), P=np.int64(P), t=_i32(t), s=_i32(s), h=_i32(h),
                n=_i64(n), y=_i64(y), true_sigma_nat=np.float64(sigma_nat),
                true_sigma_state=np.float64(sigma_state), true_sigma_off=np.float64(sigma_off),
                true_sigma_house=np.float64(sigma_house), true_z_nat=z_nat, true_z_state=z_state,
                true_z_off=z_off, true_z_house=z_house)


def make_w5():
    """W5: the Minnesota radon data of posteriordb's radon_all (12,573 houses, 386 counties), shipped
    beside this file (Gelman & Hill 2007, via posteriordb, BSD-3). county is 0-based; floor_measure
    keeps posteriordb's codes."""
    with files(__package__).joinpath("radon.npz").open("rb") as fh:
        z = np.load(fh)
        return {k: z[k] for k in z.files}
