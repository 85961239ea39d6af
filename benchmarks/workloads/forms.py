"""Equivalent formulations of the reference workloads, written the ways modellers write them.

Every form of a workload declares the same parameters in the same order with the same priors, so all
forms are the same function of the same flat vector; the compiler should make them equally fast.
Used by benchmarks/natural_forms.py (speed) and tests/test_natural_forms.py (equality, work done).
A form that needs a different parameter layout (the formula interface) comes with a map to the reference
layout: ``FORMS[w][name](d) -> Model`` and ``LAYOUT_MAPS[w][name](ref_model, model) -> permutation``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import brr_bayes as bb

from . import models
from .data import W2_BLOCKS


# W2: multilevel logistic regression ---------------------------------------------------------------------
def _w2_idx(d):
    return {name: np.asarray(d[name], dtype=np.int64) for name, _, _ in W2_BLOCKS}


def _w2_params(first_blocks=True):
    alpha = bb.Normal("alpha", 0, 2.5)
    beta = bb.Normal("beta", 0, 1, shape=3)
    b_female = bb.Normal("b_female", 0, 1)
    blocks = {}
    for name, L, _ in W2_BLOCKS:
        blocks[name] = (bb.HalfNormal(f"sigma_{name}", 1), bb.Normal(f"z_{name}", 0, 1, shape=L))
    return alpha, beta, b_female, blocks


def w2_stan_rows(d):
    """Stan style: a row-level predictor matrix and sigma * z[idx] per block."""
    idx = _w2_idx(d)
    Zs = d["Z"][idx["state"]]
    female = d["female"].astype(np.float64)
    with bb.Model() as m:
        alpha, beta, b_female, blocks = _w2_params()
        eta = alpha + Zs @ beta + b_female * female
        for name, (sigma, z) in blocks.items():
            eta = eta + sigma * z[idx[name]]
        bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m


def w2_stan_columns(d):
    """Stan style, the covariates written out as columns: beta[1] * z1[n] + ..."""
    idx = _w2_idx(d)
    Zs = d["Z"][idx["state"]]
    with bb.Model() as m:
        alpha, beta, b_female, blocks = _w2_params()
        eta = alpha + Zs[:, 0] * beta[0] + Zs[:, 1] * beta[1] + Zs[:, 2] * beta[2] + b_female * d["female"]
        for name, (sigma, z) in blocks.items():
            eta = eta + z[idx[name]] * sigma
        bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m


def w2_numpyro_rowsum(d):
    """NumPyro style: jnp.sum(Zs * beta, axis=-1), effects as deterministic sites, p= through inv_logit."""
    idx = _w2_idx(d)
    Zs = d["Z"][idx["state"]]
    with bb.Model() as m:
        alpha, beta, b_female, blocks = _w2_params()
        eta = alpha + (Zs * beta).sum(axis=-1) + b_female * d["female"]
        for name, (sigma, z) in blocks.items():
            eta = eta + bb.Deterministic(f"a_{name}", sigma * z)[idx[name]]
        bb.Bernoulli("y", p=bb.math.inv_logit(eta), observed=d["y"])
    return m


def w2_pymc_tables(d):
    """PyMC style: interactions as 2-d tables indexed by both factors, a python sum of the terms."""
    idx = _w2_idx(d)
    Zs = d["Z"][idx["state"]]
    with bb.Model() as m:
        alpha, beta, b_female, blocks = _w2_params()
        terms = [alpha, Zs @ beta, b_female * d["female"]]
        for name, (sigma, z) in blocks.items():
            if name == "state_race":
                terms.append(sigma * z.reshape(50, 4)[idx["state"], idx["race"]])
            elif name == "age_edu":
                terms.append(sigma * z.reshape(6, 5)[idx["age"], idx["edu"]])
            else:
                terms.append(sigma * z[idx[name]])
        bb.Bernoulli("y", logit_p=sum(terms[1:], terms[0]), observed=d["y"])
    return m


def w2_reversed(d):
    """The terms in the opposite order, parameters on the left, data on the right."""
    idx = _w2_idx(d)
    Zs = d["Z"][idx["state"]]
    with bb.Model() as m:
        alpha, beta, b_female, blocks = _w2_params()
        eta = None
        for name, (sigma, z) in reversed(list(blocks.items())):
            t = z[idx[name]] * sigma
            eta = t if eta is None else eta + t
        eta = eta + d["female"] * b_female + Zs @ beta + alpha
        bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m


def w2_onehot(d):
    """Group effects through indicator matrices: state as a dense one-hot product, age as a sparse one."""
    idx = _w2_idx(d)
    n = len(d["y"])
    Zs = d["Z"][idx["state"]]
    S = np.zeros((n, 50))
    S[np.arange(n), idx["state"]] = 1.0
    with bb.Model() as m:
        alpha, beta, b_female, blocks = _w2_params()
        eta = alpha + Zs @ beta + b_female * d["female"]
        for name, (sigma, z) in blocks.items():
            eta = eta + (sigma * (S @ z) if name == "state" else sigma * z[idx[name]])
        bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m


def w2_centred_scale(d):
    """Effects scaled after gathering and the intercept inside each effect: (alpha/7 + sigma * z[idx])."""
    idx = _w2_idx(d)
    Zs = d["Z"][idx["state"]]
    with bb.Model() as m:
        alpha, beta, b_female, blocks = _w2_params()
        eta = Zs @ beta + b_female * d["female"]
        for name, (sigma, z) in blocks.items():
            eta = eta + (alpha / 7.0 + sigma * z[idx[name]])
        bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m


W2_FORMS = {"workloads": models.mrp_logit, "stan_rows": w2_stan_rows, "stan_columns": w2_stan_columns,
            "numpyro_rowsum": w2_numpyro_rowsum, "pymc_tables": w2_pymc_tables, "reversed": w2_reversed,
            "onehot": w2_onehot, "intercept_inside": w2_centred_scale}


def w2_formula(d):
    """The formula interface (its own parameter layout; priors set to W2's)."""
    import pandas as pd
    df = pd.DataFrame({k: np.asarray(d[k]) for k in ("y", "state", "age", "race", "edu", "region", "female")})
    idx = _w2_idx(d)
    for j in range(3):
        df[f"z{j + 1}"] = d["Z"][idx["state"], j]
    df["state_race"], df["age_edu"] = idx["state_race"], idx["age_edu"]
    fit = bb.GLM("y ~ 1 + z1 + z2 + z3 + female + (1 | state) + (1 | age) + (1 | race) + (1 | edu) + (1 | region)"
                 " + (1 | state_race) + (1 | age_edu)", df, family="bernoulli",
                 priors={"Intercept": bb.Normal.dist(0, 2.5), "b": bb.Normal.dist(0, 1), "sd": bb.HalfNormal.dist(1)})
    return fit.model


def _w2_formula_map(ref, m):
    """Flat positions in the formula model of each reference coordinate."""
    lay = {rv.name: off for rv, (off, _) in m.compiled.layout.items()}
    for name, L, _ in W2_BLOCKS:   # the formula interface keeps the levels the rows have, no others
        seen = len(m.coords[name])
        if seen != L:
            raise ValueError(f"the formula form has {seen} of W2's {L} {name} levels (only those its rows have), "
                             "so it is another parameter space than the workloads form; compare them on data where "
                             "every level occurs (20,000 rows or more)")
    perm = [lay["Intercept"]] + [lay["b"] + j for j in range(4)]
    for name, L, _ in W2_BLOCKS:
        perm += [lay[f"sd_{name}"]] + [lay[f"z_{name}"] + j for j in range(L)]
    return np.asarray(perm)


# W3: BYM2 spatial Poisson ---------------------------------------------------------------------------------
def _w3_model(d, build_y):
    """W3's parameters in models.bym2's order; build_y(p, d) adds the likelihood."""
    n = int(d["N"])
    edges = np.stack([np.asarray(d["node1"], dtype=np.int64), np.asarray(d["node2"], dtype=np.int64)], axis=1)
    with bb.Model(coords={"area": np.arange(n)}) as m:
        p = dict(alpha=bb.Normal("alpha", 0, 1), beta=bb.Normal("beta", 0, 1), sigma=bb.HalfNormal("sigma", 1),
                 rho=bb.Beta("rho", 0.5, 0.5), theta=bb.Normal("theta", 0, 1, dims="area"))
        p["phi"] = bb.ICAR("phi", n, edges=edges, dims="area")
        build_y(p, d, float(d["scaling_factor"]))
    return m


def w3_multiplied_out(d):
    """sigma multiplied into each part of the convolved effect."""
    def y(p, d, sf):
        s, r = p["sigma"], p["rho"]
        eta = d["log_E"] + p["alpha"] + p["beta"] * d["x"] + s * bb.math.sqrt(r / sf) * p["phi"] \
            + s * bb.math.sqrt(1 - r) * p["theta"]
        bb.Poisson("y", log_mu=eta, observed=d["y"])
    return _w3_model(d, y)


def w3_stan(d):
    """As the Stan case study (Morris et al.) writes all of it: the ICAR prior as a target increment over
    the edge list, target += -0.5 * dot_self(phi[node1] - phi[node2]), with the soft sum-to-zero;
    convolved_re = sqrt(1 - rho) * theta + sqrt(rho / s) * phi;
    y ~ poisson_log(log_E + beta0 + x * betas + convolved_re * sigma)."""
    n = int(d["N"])
    n1, n2 = np.asarray(d["node1"], dtype=np.int64), np.asarray(d["node2"], dtype=np.int64)
    with bb.Model(coords={"area": np.arange(n)}) as m:
        p = dict(alpha=bb.Normal("alpha", 0, 1), beta=bb.Normal("beta", 0, 1), sigma=bb.HalfNormal("sigma", 1),
                 rho=bb.Beta("rho", 0.5, 0.5), theta=bb.Normal("theta", 0, 1, dims="area"))
        phi = bb.Flat("phi", dims="area")
        diff = phi[n1] - phi[n2]
        bb.Potential("phi_icar", -0.5 * (diff * diff).sum())
        bb.Potential("phi_zero_sum", -0.5 * bb.math.square(phi.sum() / (0.001 * n)))
        conv = bb.math.sqrt(1 - p["rho"]) * p["theta"] + bb.math.sqrt(p["rho"] / float(d["scaling_factor"])) * phi
        bb.Poisson("y", log_mu=d["log_E"] + p["alpha"] + d["x"] * p["beta"] + conv * p["sigma"], observed=d["y"])
    return m


def w3_pymc(d):
    """As PyMC's BYM example: the convolved effect kept as a Deterministic, mu = exp(...)."""
    def y(p, d, sf):
        conv = bb.Deterministic("convolved", bb.math.sqrt(1 - p["rho"]) * p["theta"]
                                + bb.math.sqrt(p["rho"] / sf) * p["phi"])
        mu = bb.math.exp(d["log_E"] + p["alpha"] + p["beta"] * d["x"] + p["sigma"] * conv)
        bb.Poisson("y", mu=mu, observed=d["y"])
    return _w3_model(d, y)


W3_FORMS = {"workloads": models.bym2, "multiplied_out": w3_multiplied_out, "stan": w3_stan, "pymc": w3_pymc}


# W4: poll aggregation with random walks ----------------------------------------------------------------
def _w4_params(d):
    T, S, H = int(d["T"]), int(d["S"]), int(d["H"])
    p = dict(sigma_nat=bb.HalfNormal("sigma_nat", 0.1), sigma_state=bb.HalfNormal("sigma_state", 0.05),
             sigma_off=bb.HalfNormal("sigma_off", 0.5), sigma_house=bb.HalfNormal("sigma_house", 0.1))
    p.update(z_nat=bb.Normal("z_nat", 0, 1, shape=T), z_state=bb.Normal("z_state", 0, 1, shape=(S, T)),
             z_off=bb.Normal("z_off", 0, 1, shape=S), z_house=bb.Normal("z_house", 0, 1, shape=H))
    return p, (np.asarray(d[k], dtype=np.int64) for k in ("t", "s", "h"))


def _w4_model(d, eta_fn, p_link=False):
    with bb.Model() as m:
        p, (t, s, h) = _w4_params(d)
        eta = eta_fn(p, t, s, h, int(d["T"]))
        if p_link:
            bb.Binomial("y", d["n"], p=bb.math.inv_logit(eta), observed=d["y"])
        else:
            bb.Binomial("y", d["n"], logit_p=eta, observed=d["y"])
    return m


def _w4_natural_eta(p, t, s, h, T):
    national = bb.math.cumsum(p["sigma_nat"] * p["z_nat"])
    state_rw = bb.math.cumsum(p["sigma_state"] * p["z_state"], axis=1)
    return national[t] + p["sigma_off"] * p["z_off"][s] + state_rw[s, t] + p["sigma_house"] * p["z_house"][h]


def w4_natural(d):
    """sigma * z[idx] for offsets and houses, as written in Stan."""
    return _w4_model(d, _w4_natural_eta)


def w4_scale_outside(d):
    """Scales applied after the cumulative sums and gathers."""
    def eta(p, t, s, h, T):
        return (p["sigma_nat"] * bb.math.cumsum(p["z_nat"])[t] + p["z_off"][s] * p["sigma_off"]
                + p["sigma_state"] * bb.math.cumsum(p["z_state"], axis=1)[s, t] + p["sigma_house"] * p["z_house"][h])
    return _w4_model(d, eta)


def w4_flat_index(d):
    """The state random walk indexed through its flattened array, s * T + t."""
    def eta(p, t, s, h, T):
        state_rw = bb.math.cumsum(p["sigma_state"] * p["z_state"], axis=1).reshape(-1)
        return (bb.math.cumsum(p["sigma_nat"] * p["z_nat"])[t] + state_rw[s * T + t]
                + (p["sigma_off"] * p["z_off"])[s] + (p["sigma_house"] * p["z_house"])[h])
    return _w4_model(d, eta)


def w4_transposed(d):
    """The state walks laid out day x state (cumsum over axis 0), indexed [t, s]."""
    def eta(p, t, s, h, T):
        walks = bb.math.cumsum(p["sigma_state"] * p["z_state"].T, axis=0)
        return (bb.math.cumsum(p["sigma_nat"] * p["z_nat"])[t] + walks[t, s]
                + p["sigma_off"] * p["z_off"][s] + p["sigma_house"] * p["z_house"][h])
    return _w4_model(d, eta)


def w4_p_link(d):
    """Binomial(n, p=inv_logit(eta)), PyMC's usual spelling."""
    return _w4_model(d, _w4_natural_eta, p_link=True)


def w4_deterministics(d):
    """Every latent series a named Deterministic (as PyMC users keep them), terms summed in another order."""
    def eta(p, t, s, h, T):
        national = bb.Deterministic("national", bb.math.cumsum(p["sigma_nat"] * p["z_nat"]))
        state_rw = bb.Deterministic("state_rw", bb.math.cumsum(p["sigma_state"] * p["z_state"], axis=1))
        house = bb.Deterministic("house", p["sigma_house"] * p["z_house"])
        offset = bb.Deterministic("offset", p["sigma_off"] * p["z_off"])
        return house[h] + offset[s] + state_rw[s, t] + national[t]
    return _w4_model(d, eta)


def w4_python_sum(d):
    """A python sum over a list of gathered series."""
    def eta(p, t, s, h, T):
        parts = [bb.math.cumsum(p["sigma_nat"] * p["z_nat"])[t],
                 bb.math.cumsum(p["sigma_state"] * p["z_state"], axis=1)[s, t],
                 p["sigma_off"] * p["z_off"][s], p["sigma_house"] * p["z_house"][h]]
        return sum(parts[1:], parts[0])
    return _w4_model(d, eta)


def w4_column_index(d):
    """The national walk gathered through a (day, 1) column and flattened back, as broadcasting code does."""
    def eta(p, t, s, h, T):
        national = bb.math.cumsum(p["sigma_nat"] * p["z_nat"]).reshape(T, 1)
        return (national[t, 0] + bb.math.cumsum(p["sigma_state"] * p["z_state"], axis=1)[s, t]
                + p["z_off"][s] * p["sigma_off"] + p["z_house"][h] * p["sigma_house"])
    return _w4_model(d, eta)


W4_FORMS = {"workloads": models.poll_rw, "natural": w4_natural, "scale_outside": w4_scale_outside,
            "flat_index": w4_flat_index, "transposed": w4_transposed, "p_link": w4_p_link,
            "deterministics": w4_deterministics, "python_sum": w4_python_sum, "column_index": w4_column_index}


# W5: radon, varying intercepts and slopes -------------------------------------------------------------
def _w5_params(J):
    mu_a, mu_b = bb.Normal("mu_alpha", 0, 10), bb.Normal("mu_beta", 0, 10)
    s_y, s_a, s_b = (bb.HalfNormal(n, 1) for n in ("sigma_y", "sigma_alpha", "sigma_beta"))
    a_raw = bb.Normal("alpha_raw", 0, 1, shape=J)
    b_raw = bb.Normal("beta_raw", 0, 1, shape=J)
    return mu_a, mu_b, s_y, s_a, s_b, a_raw, b_raw


def _w5_model(d, mu_fn):
    c = np.asarray(d["county"], dtype=np.int64)
    x = np.asarray(d["floor_measure"], dtype=np.float64)
    with bb.Model() as m:
        mu_a, mu_b, s_y, s_a, s_b, a_raw, b_raw = _w5_params(int(d["J"]))
        mu = mu_fn(mu_a, mu_b, s_a, s_b, a_raw, b_raw, c, x)
        bb.Normal("log_radon", mu, s_y, observed=d["log_radon"])
    return m


def w5_stan(d):
    """As posteriordb's Stan code: mu_alpha + sigma_alpha * alpha_raw[county] + (...) * floor."""
    return _w5_model(d, lambda ma, mb, sa, sb, ar, br, c, x: ma + sa * ar[c] + (mb + sb * br[c]) * x)


def w5_expanded(d):
    """The slope multiplied out term by term."""
    return _w5_model(d, lambda ma, mb, sa, sb, ar, br, c, x: ma + sa * ar[c] + mb * x + sb * br[c] * x)


def w5_group_level(d):
    """County coefficients built first, then gathered."""
    return _w5_model(d, lambda ma, mb, sa, sb, ar, br, c, x: (ma + sa * ar)[c] + x * (mb + sb * br)[c])


def w5_stacked(d):
    """A (county x 2) coefficient table times a row-level [1, floor] design, summed over the columns."""
    def mu(ma, mb, sa, sb, ar, br, c, x):
        coef = bb.math.stack([ma + sa * ar, mb + sb * br], axis=1)
        X = np.stack([np.ones_like(x), x], axis=1)
        return (X * coef[c]).sum(axis=1)
    return _w5_model(d, mu)


def w5_reversed(d):
    """Slope term first, data on the left."""
    return _w5_model(d, lambda ma, mb, sa, sb, ar, br, c, x: x * (br[c] * sb + mb) + (ar[c] * sa + ma))


def w5_onehot(d):
    """Counties through a dense indicator matrix."""
    def mu(ma, mb, sa, sb, ar, br, c, x):
        H = np.zeros((len(c), ar.size))
        H[np.arange(len(c)), c] = 1.0
        return H @ (ma + sa * ar) + x * (H @ (mb + sb * br))
    return _w5_model(d, mu)


def w5_sparse_design(d):
    """Intercepts through a scipy.sparse indicator matrix (CSR), slopes gathered."""
    def mu(ma, mb, sa, sb, ar, br, c, x):
        H = sp.csr_matrix((np.ones(len(c)), (np.arange(len(c)), c)), shape=(len(c), ar.size))
        return H @ (sa * ar) + ma + (mb + sb * br)[c] * x
    return _w5_model(d, mu)


W5_FORMS = {"workloads": models.radon, "stan": w5_stan, "expanded": w5_expanded, "group_level": w5_group_level,
            "stacked": w5_stacked, "reversed": w5_reversed, "onehot": w5_onehot, "sparse_design": w5_sparse_design}

FORMS = {"W2": W2_FORMS, "W3": W3_FORMS, "W4": W4_FORMS, "W5": W5_FORMS}
EXTRA_FORMS = {"W2": {"formula": (w2_formula, _w2_formula_map)}}
