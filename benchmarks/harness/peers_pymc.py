"""The reference workloads written in PyMC, compiled by nutpie (numba backend)."""
from __future__ import annotations

import numpy as np


def models():
    import pymc as pm

    def w1(d):
        with pm.Model() as m:
            mu = pm.Normal("mu", 0, 5)
            tau = pm.HalfCauchy("tau", 5)
            z = pm.Normal("theta_raw", 0, 1, shape=8)
            pm.Normal("y", mu + tau * z, d["sigma"], observed=d["y"])
        return m

    def w2(d):
        from workloads.data import W2_BLOCKS
        with pm.Model() as m:
            alpha = pm.Normal("alpha", 0, 2.5)
            beta = pm.Normal("beta", 0, 1, shape=3)
            bf = pm.Normal("b_female", 0, 1)
            eta = alpha + pm.math.dot(d["Z"], beta)[d["state"]] + bf * d["female"]
            for name, L, _ in W2_BLOCKS:
                s = pm.HalfNormal(f"sigma_{name}", 1)
                z = pm.Normal(f"z_{name}", 0, 1, shape=L)
                eta = eta + (s * z)[d[name]]
            pm.Bernoulli("y", logit_p=eta, observed=d["y"])
        return m

    def w3(d):
        n = int(d["N"])
        n1, n2, sf = d["node1"], d["node2"], float(d["scaling_factor"])
        with pm.Model() as m:
            alpha = pm.Normal("alpha", 0, 1)
            beta = pm.Normal("beta", 0, 1)
            sigma = pm.HalfNormal("sigma", 1)
            rho = pm.Beta("rho", 0.5, 0.5)
            theta = pm.Normal("theta", 0, 1, shape=n)
            phi = pm.Flat("phi", shape=n)
            pm.Potential("icar", -0.5 * pm.math.sum((phi[n1] - phi[n2]) ** 2))
            pm.Potential("soft", pm.logp(pm.Normal.dist(0, 0.001 * n), phi.sum()))
            conv = pm.math.sqrt(rho / sf) * phi + pm.math.sqrt(1 - rho) * theta
            pm.Poisson("y", pm.math.exp(d["log_E"] + alpha + beta * d["x"] + sigma * conv), observed=d["y"])
        return m

    def w4(d):
        T, S, H = int(d["T"]), int(d["S"]), int(d["H"])
        with pm.Model() as m:
            sn = pm.HalfNormal("sigma_nat", 0.1)
            ss = pm.HalfNormal("sigma_state", 0.05)
            so = pm.HalfNormal("sigma_off", 0.5)
            sh = pm.HalfNormal("sigma_house", 0.1)
            zn = pm.Normal("z_nat", 0, 1, shape=T)
            zs = pm.Normal("z_state", 0, 1, shape=(S, T))
            zo = pm.Normal("z_off", 0, 1, shape=S)
            zh = pm.Normal("z_house", 0, 1, shape=H)
            nat = pm.math.cumsum(sn * zn)
            srw = pm.math.cumsum(ss * zs, axis=1)
            eta = nat[d["t"]] + (so * zo)[d["s"]] + srw[d["s"], d["t"]] + (sh * zh)[d["h"]]
            pm.Binomial("y", n=d["n"], logit_p=eta, observed=d["y"])
        return m

    def w5(d):
        c, J = d["county"], int(d["J"])
        with pm.Model() as m:
            mu_a, mu_b = pm.Normal("mu_alpha", 0, 10), pm.Normal("mu_beta", 0, 10)
            s_y, s_a, s_b = (pm.HalfNormal(n, 1) for n in ("sigma_y", "sigma_alpha", "sigma_beta"))
            a = mu_a + s_a * pm.Normal("alpha_raw", 0, 1, shape=J)
            b = mu_b + s_b * pm.Normal("beta_raw", 0, 1, shape=J)
            pm.Normal("log_radon", a[c] + d["floor_measure"] * b[c], s_y, observed=d["log_radon"])
        return m

    return {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5}


def compile_model(pymc_model):
    import nutpie
    return nutpie.compile_pymc_model(pymc_model, backend="numba")


_NOOP = None


def _ctypes_call_cost(dim, args):
    """Seconds per ctypes call of a do-nothing cfunc with nutpie's logp signature (subtracted)."""
    global _NOOP
    import time

    import numba
    if _NOOP is None:
        sig = numba.types.int64(numba.types.uint64, numba.types.CPointer(numba.types.double),
                                numba.types.CPointer(numba.types.double), numba.types.CPointer(numba.types.double),
                                numba.types.voidptr)
        _NOOP = numba.cfunc(sig)(lambda d, x, o, lp, u: 0).ctypes
    n = 20000
    t0 = time.perf_counter()
    for _ in range(n):
        _NOOP(*args)
    return (time.perf_counter() - t0) / n


def logp_grad_call(compiled):
    """A zero-argument callable running nutpie's compiled numba logp+gradient at the zero point."""
    import ctypes
    f = compiled.compiled_logp_func.ctypes
    dim = compiled.n_dim
    x, g, lp = np.zeros(dim), np.zeros(dim), np.zeros(1)
    dp = ctypes.POINTER(ctypes.c_double)
    args = (dim, x.ctypes.data_as(dp), g.ctypes.data_as(dp), lp.ctypes.data_as(dp),
            compiled.user_data.ctypes.data_as(ctypes.c_void_p))
    keep = (x, g, lp)

    def call():
        rc = f(*args)
        if rc != 0:
            raise RuntimeError(f"nutpie logp returned {rc}")
        return keep
    return call, _ctypes_call_cost(dim, args)


def sample(compiled, seed, draws=1000, tune=1000, chains=4):
    import time

    import nutpie
    t0 = time.perf_counter()
    trace = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed, progress_bar=False)
    secs = time.perf_counter() - t0
    post = {k: trace.posterior[k].values for k in trace.posterior.data_vars}
    div = int(trace.sample_stats["diverging"].values.sum())
    return secs, post, div
