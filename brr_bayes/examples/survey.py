"""The bundled example survey: a simulated multilevel survey of vote intention (50 states, age, race,
education, sex; seven random-effect blocks with known true values) and its census, with the MRP model
that the demo fits. The benchmarks' workload W2 (benchmarks/workloads, shared/workloads/SPEC.md) is this
survey; its linear algebra runs through brr_bayes.portable, not BLAS, so the same bits come out on every
machine.

Example:
    >>> from brr_bayes.examples import simulate_survey, mrp_logit
    >>> d = simulate_survey(2000)
    >>> model = mrp_logit(d, collapsed=True)
"""
from __future__ import annotations

import numpy as np
import scipy.special

import brr_bayes as bb

from .. import portable

SEED = 565

SURVEY_BLOCKS = [("state", 50, 0.30), ("age", 6, 0.25), ("race", 4, 0.40), ("edu", 5, 0.30), ("region", 4, 0.20),
             ("state_race", 200, 0.15), ("age_edu", 30, 0.20)]


def _i32(a):
    return np.ascontiguousarray(a, dtype=np.int32)


def _i64(a):
    return np.ascontiguousarray(a, dtype=np.int64)


ALPHA, BETA, B_FEMALE = -0.3, np.array([0.4, -0.25, 0.15]), 0.2
P_AGE, P_RACE = [0.12, 0.17, 0.18, 0.18, 0.18, 0.17], [0.62, 0.14, 0.16, 0.08]
P_EDU, P_FEMALE = [0.10, 0.28, 0.30, 0.20, 0.12], 0.52


def _truth(rng):
    """The first draws of W2's stream: state covariates Z, true effects by block, state population shares."""
    Z = rng.standard_normal((50, 3))
    z = {name: rng.standard_normal(L) for name, L, _ in SURVEY_BLOCKS}
    a = {name: s * z[name] for name, _, s in SURVEY_BLOCKS}
    return Z, a, rng.dirichlet(np.full(50, 2.0))


def survey_census(population=10_000_000):
    """W2's population: every state x age x race x edu x female cell with its count (the product of the
    generator's marginal shares times ``population``) and its true probability. Returns a dict of arrays
    (state, age, race, edu, female, region, z1..z3, n, p)."""
    Z, a, p_state = _truth(np.random.default_rng(SEED))
    grids = np.meshgrid(np.arange(50), np.arange(6), np.arange(4), np.arange(5), np.arange(2), indexing="ij")
    s, ag, r, e, f = (g.ravel() for g in grids)
    share = (p_state[s] * np.asarray(P_AGE)[ag] * np.asarray(P_RACE)[r] * np.asarray(P_EDU)[e]
             * np.where(f == 1, P_FEMALE, 1 - P_FEMALE))
    eta = (ALPHA + portable.matmul(Z[s], BETA) + B_FEMALE * f + a["state"][s] + a["age"][ag] + a["race"][r] + a["edu"][e]
           + a["region"][s // 13] + a["state_race"][s * 4 + r] + a["age_edu"][ag * 5 + e])
    return dict(state=s, age=ag, race=r, edu=e, female=f, region=s // 13, z1=Z[s, 0], z2=Z[s, 1], z3=Z[s, 2],
                n=np.round(population * share), p=scipy.special.expit(eta))


def simulate_survey(n=100_000):
    """A simulated survey of n respondents (Bernoulli votes from a multilevel logistic model with known
    true values), its rows and its exact binomial cells. Returns a dict of arrays: per-row indices, ``y``,
    ``cell_*`` for the collapsed cells, ``true_*`` for the values that generated it.

    Example:
        >>> d = simulate_survey(1000)
        >>> int(d["N"]), int(d["y"].sum()) <= 1000
        (1000, True)
    """
    rng = np.random.default_rng(SEED)
    S, A, R, E = 50, 6, 4, 5
    alpha, beta, b_female = ALPHA, BETA, B_FEMALE
    Z, a, p_state = _truth(rng)
    z = {name: a[name] / s for name, _, s in SURVEY_BLOCKS}
    sig = {name: s for name, _, s in SURVEY_BLOCKS}
    state = rng.choice(S, size=n, p=p_state)
    age = rng.choice(A, size=n, p=P_AGE)
    race = rng.choice(R, size=n, p=P_RACE)
    edu = rng.choice(E, size=n, p=P_EDU)
    female = (rng.random(n) < P_FEMALE).astype(np.int64)
    region = state // 13
    state_race = state * 4 + race
    age_edu = age * 5 + edu
    eta = (alpha + portable.matmul(Z[state], beta) + b_female * female + a["state"][state] + a["age"][age] + a["race"][race]
           + a["edu"][edu] + a["region"][region] + a["state_race"][state_race] + a["age_edu"][age_edu])
    y = (rng.random(n) < scipy.special.expit(eta)).astype(np.int64)
    cell = (((state * A + age) * R + race) * E + edu) * 2 + female
    uniq, inv = np.unique(cell, return_inverse=True)
    c_trials = np.bincount(inv).astype(np.int64)
    c_y = np.bincount(inv, weights=y).astype(np.int64)
    c_female = uniq % 2
    r_ = uniq // 2
    c_edu = r_ % E
    r_ //= E
    c_race = r_ % R
    r_ //= R
    c_age = r_ % A
    c_state = r_ // A
    out = dict(
        N=np.int64(n), n_state=np.int64(S), n_age=np.int64(A), n_race=np.int64(R), n_edu=np.int64(E),
        n_region=np.int64(4), n_state_race=np.int64(S * R), n_age_edu=np.int64(A * E), K=np.int64(3),
        y=_i64(y), state=_i32(state), age=_i32(age), race=_i32(race), edu=_i32(edu), female=_i32(female),
        region=_i32(region), state_race=_i32(state_race), age_edu=_i32(age_edu), Z=np.ascontiguousarray(Z),
        n_cells=np.int64(len(uniq)), cell_trials=c_trials, cell_y=c_y, cell_state=_i32(c_state),
        cell_age=_i32(c_age), cell_race=_i32(c_race), cell_edu=_i32(c_edu), cell_female=_i32(c_female),
        cell_region=_i32(c_state // 13), cell_state_race=_i32(c_state * 4 + c_race),
        cell_age_edu=_i32(c_age * 5 + c_edu), true_alpha=np.float64(alpha), true_beta=beta,
        true_b_female=np.float64(b_female))
    for name, _, _ in SURVEY_BLOCKS:
        out[f"true_sigma_{name}"] = np.float64(sig[name])
        out[f"true_z_{name}"] = z[name]
        out[f"true_a_{name}"] = a[name]
    return out



def mrp_logit(d, collapsed=False):
    """The MRP model of the survey (W2): intercept, state covariates, sex, and a non-centred random effect
    per block; ``collapsed=True`` fits the exact binomial cells instead of the rows (same posterior).

    Example:
        >>> model = mrp_logit(simulate_survey(1000), collapsed=True)
    """
    pre = "cell_" if collapsed else ""
    idx = {name: np.asarray(d[pre + name], dtype=np.int64) for name, _, _ in SURVEY_BLOCKS}
    state = idx["state"]
    coords = {name: np.arange(L) for name, L, _ in SURVEY_BLOCKS}
    with bb.Model(coords=coords) as m:
        alpha = bb.Normal("alpha", 0, 2.5)
        beta = bb.Normal("beta", 0, 1, shape=3)
        b_female = bb.Normal("b_female", 0, 1)
        eta = alpha + (d["Z"] @ beta)[state] + b_female * np.asarray(d[pre + "female"], dtype=np.float64)
        for name, _, _ in SURVEY_BLOCKS:
            sigma = bb.HalfNormal(f"sigma_{name}", 1)
            z = bb.Normal(f"z_{name}", 0, 1, dims=name)
            eta = eta + (sigma * z)[idx[name]]
        if collapsed:
            bb.Binomial("y", d["cell_trials"], logit_p=eta, observed=d["cell_y"])
        else:
            bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m
