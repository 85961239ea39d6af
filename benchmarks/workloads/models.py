"""The reference workloads written with brr_bayes (SPEC.md's math, one function per workload)."""
from __future__ import annotations

import numpy as np

import brr_bayes as bb

from brr_bayes.examples import mrp_logit

__all__ = ["bym2", "eight_schools", "mrp_logit", "poll_rw", "radon"]


def eight_schools(d):
    """W1: eight schools, non-centred."""
    with bb.Model(coords={"school": [f"s{j}" for j in range(int(d["J"]))]}) as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", 5)
        z = bb.Normal("theta_raw", 0, 1, dims="school")
        theta = bb.Deterministic("theta", mu + tau * z, dims="school")
        bb.Normal("y", theta, d["sigma"], observed=d["y"], dims="school")
    return m


def poll_rw(d):
    """W4: national and state random walks, state offsets and house effects; binomial polls."""
    T, S, H = int(d["T"]), int(d["S"]), int(d["H"])
    t, s, h = (np.asarray(d[k], dtype=np.int64) for k in ("t", "s", "h"))
    with bb.Model(coords={"day": np.arange(T), "state": np.arange(S), "pollster": np.arange(H)}) as m:
        sigma_nat = bb.HalfNormal("sigma_nat", 0.1)
        sigma_state = bb.HalfNormal("sigma_state", 0.05)
        sigma_off = bb.HalfNormal("sigma_off", 0.5)
        sigma_house = bb.HalfNormal("sigma_house", 0.1)
        z_nat = bb.Normal("z_nat", 0, 1, dims="day")
        z_state = bb.Normal("z_state", 0, 1, dims=("state", "day"))
        z_off = bb.Normal("z_off", 0, 1, dims="state")
        z_house = bb.Normal("z_house", 0, 1, dims="pollster")
        national = bb.math.cumsum(sigma_nat * z_nat)
        state_rw = bb.math.cumsum(sigma_state * z_state, axis=1)
        eta = national[t] + (sigma_off * z_off)[s] + state_rw[s, t] + (sigma_house * z_house)[h]
        bb.Binomial("y", d["n"], logit_p=eta, observed=d["y"])
    return m


def bym2(d):
    """W3: BYM2 spatial Poisson; ICAR written as pairwise differences over the edge list."""
    n = int(d["N"])
    n1, n2 = np.asarray(d["node1"], dtype=np.int64), np.asarray(d["node2"], dtype=np.int64)
    sf = float(d["scaling_factor"])
    with bb.Model(coords={"area": np.arange(n)}) as m:
        alpha = bb.Normal("alpha", 0, 1)
        beta = bb.Normal("beta", 0, 1)
        sigma = bb.HalfNormal("sigma", 1)
        rho = bb.Beta("rho", 0.5, 0.5)
        theta = bb.Normal("theta", 0, 1, dims="area")
        # ICAR over the edge list with the soft sum-to-zero sum(phi) ~ N(0, 0.001 n) of SPEC.md
        phi = bb.ICAR("phi", n, edges=np.stack([n1, n2], axis=1), dims="area")
        conv = bb.math.sqrt(rho / sf) * phi + bb.math.sqrt(1 - rho) * theta
        bb.Poisson("y", log_mu=d["log_E"] + alpha + beta * d["x"] + sigma * conv, observed=d["y"])
    return m


def radon(d):
    """W5: radon with varying intercepts and slopes by county, non-centred (posteriordb's model)."""
    c, J = np.asarray(d["county"], dtype=np.int64), int(d["J"])
    with bb.Model(coords={"county": np.arange(J)}) as m:
        mu_a, mu_b = bb.Normal("mu_alpha", 0, 10), bb.Normal("mu_beta", 0, 10)
        s_y, s_a, s_b = (bb.HalfNormal(n, 1) for n in ("sigma_y", "sigma_alpha", "sigma_beta"))
        a = bb.Deterministic("alpha", mu_a + s_a * bb.Normal("alpha_raw", 0, 1, dims="county"), dims="county")
        b = bb.Deterministic("beta", mu_b + s_b * bb.Normal("beta_raw", 0, 1, dims="county"), dims="county")
        bb.Normal("log_radon", a[c] + d["floor_measure"] * b[c], s_y, observed=d["log_radon"])
    return m
