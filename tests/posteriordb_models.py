"""The posteriordb reference posteriors written with brr_bayes, from INDEX.md's math and the Stan files.

Each builder takes the data.json dict and returns a Model whose variable names match reference.json.
"""
import numpy as np

import brr_bayes as bb


def arr(d, k):
    return np.asarray(d[k], dtype=np.float64)


def eight_schools_noncentered(d):
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", 5)
        tt = bb.Normal("theta_trans", 0, 1, shape=int(d["J"]))
        theta = bb.Deterministic("theta", mu + tau * tt)
        bb.Normal("y", theta, arr(d, "sigma"), observed=arr(d, "y"))
    return m


def eight_schools_centered(d):
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", 5)
        theta = bb.Normal("theta", mu, tau, shape=int(d["J"]))
        bb.Normal("y", theta, arr(d, "sigma"), observed=arr(d, "y"))
    return m


def ark(d):
    K, T, y = int(d["K"]), int(d["T"]), arr(d, "y")
    lags = np.stack([y[K - k - 1:T - k - 1] for k in range(K)], axis=1)  # column k: y[t-k-1]
    with bb.Model() as m:
        alpha = bb.Normal("alpha", 0, 10)
        beta = bb.Normal("beta", 0, 10, shape=K)
        sigma = bb.HalfCauchy("sigma", 2.5)
        bb.Normal("y", alpha + lags @ beta, sigma, observed=y[K:])
    return m


def low_dim_gauss_mix(d):
    from brr_bayes.model.transforms import Ordered
    y = arr(d, "y")
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 2, shape=2, transform=Ordered())
        sigma = bb.HalfNormal("sigma", 2, shape=2)
        theta = bb.Beta("theta", 5, 5)
        lp1 = bb.math.log(theta) - 0.5 * bb.math.square((y - mu[0]) / sigma[0]) - bb.math.log(sigma[0])
        lp2 = bb.math.log1p(-theta) - 0.5 * bb.math.square((y - mu[1]) / sigma[1]) - bb.math.log(sigma[1])
        bb.Potential("mix", bb.math.logaddexp(lp1, lp2))
    return m


def kilpisjarvi(d):
    with bb.Model() as m:
        alpha = bb.Normal("alpha", float(d["pmualpha"]), float(d["psalpha"]))
        beta = bb.Normal("beta", float(d["pmubeta"]), float(d["psbeta"]))
        sigma = bb.HalfFlat("sigma")
        bb.Normal("y", alpha + beta * arr(d, "x"), sigma, observed=arr(d, "y"))
    return m


def _regression(y, X, sigma_prior=None):
    with bb.Model() as m:
        beta = bb.Flat("beta", shape=X.shape[1])
        sigma = bb.HalfFlat("sigma") if sigma_prior is None else sigma_prior()
        bb.Normal("y", X @ beta, sigma, observed=y)
    return m


def earn_height(d):
    return _regression(arr(d, "earn"), np.column_stack([np.ones(int(d["N"])), arr(d, "height")]))


def logearn_interaction(d):
    h, male = arr(d, "height"), arr(d, "male")
    return _regression(np.log(arr(d, "earn")), np.column_stack([np.ones_like(h), h, male, h * male]))


def logearn_interaction_z(d):
    h, male = arr(d, "height"), arr(d, "male")
    z = (h - h.mean()) / h.std(ddof=1)
    return _regression(np.log(arr(d, "earn")), np.column_stack([np.ones_like(h), z, male, z * male]))


def kidscore_interaction(d):
    hs, iq = arr(d, "mom_hs"), arr(d, "mom_iq")
    X = np.column_stack([np.ones_like(hs), hs, iq, hs * iq])
    return _regression(arr(d, "kid_score"), X, lambda: bb.HalfCauchy("sigma", 2.5))


def kidscore_mom_work(d):
    w = np.asarray(d["mom_work"])
    X = np.column_stack([np.ones(len(w)), w == 2, w == 3, w == 4]).astype(float)
    return _regression(arr(d, "kid_score"), X)


def _mesquite_X(d, f):
    return np.column_stack([np.ones(int(d["N"]))] + [f(arr(d, k)) for k in
                           ("diam1", "diam2", "canopy_height", "total_height", "density")] + [arr(d, "group")])


def logmesquite(d):
    return _regression(np.log(arr(d, "weight")), _mesquite_X(d, np.log))


def mesquite(d):
    return _regression(arr(d, "weight"), _mesquite_X(d, lambda v: v))


def nes(d):
    age = np.asarray(d["age_discrete"])
    cols = [np.ones(int(d["N"])), arr(d, "real_ideo"), arr(d, "race_adj"), age == 2, age == 3, age == 4,
            arr(d, "educ1"), arr(d, "gender"), arr(d, "income")]
    return _regression(arr(d, "partyid7"), np.column_stack(cols).astype(float))


def blr(d):
    X = np.asarray(d["X"], dtype=np.float64)
    with bb.Model() as m:
        beta = bb.Normal("beta", 0, 10, shape=int(d["D"]))
        sigma = bb.HalfNormal("sigma", 10)
        bb.Normal("y", X @ beta, sigma, observed=arr(d, "y"))
    return m


def diamonds(d):
    X = np.asarray(d["X"], dtype=np.float64)[:, 1:]
    Xc = X - X.mean(axis=0)
    with bb.Model() as m:
        b = bb.Normal("b", 0, 1, shape=Xc.shape[1])
        intercept = bb.StudentT("Intercept", 3, 8, 10)
        sigma = bb.HalfStudentT("sigma", 3, 10)
        bb.Normal("Y", intercept + Xc @ b, sigma, observed=arr(d, "Y"))
    return m


def glm_poisson(d):
    year = arr(d, "year")
    with bb.Model() as m:
        alpha = bb.Uniform("alpha", -20, 20)
        b1, b2, b3 = (bb.Uniform(f"beta{k}", -10, 10) for k in (1, 2, 3))
        bb.Poisson("C", log_mu=alpha + b1 * year + b2 * year ** 2 + b3 * year ** 3, observed=arr(d, "C"))
    return m


def wells_dist(d):
    X = np.column_stack([np.ones(int(d["N"])), arr(d, "dist")])
    with bb.Model() as m:
        beta = bb.Flat("beta", shape=2)
        bb.Bernoulli("switched", logit_p=X @ beta, observed=arr(d, "switched"))
    return m


def seeds_centered(d):
    x1, x2 = arr(d, "x1"), arr(d, "x2")
    with bb.Model() as m:
        a0, a1, a2, a12 = (bb.Normal(n, 0, 1) for n in ("alpha0", "alpha1", "alpha2", "alpha12"))
        sigma = bb.HalfCauchy("sigma", 1)
        b = bb.Normal("b", 0, sigma, shape=int(d["I"]))
        bb.Binomial("n", arr(d, "N"), logit_p=a0 + a1 * x1 + a2 * x2 + a12 * x1 * x2 + b, observed=arr(d, "n"))
    return m


def radon_noncentered(d):
    c = np.asarray(d["county_idx"]) - 1
    J, floor = int(d["J"]), arr(d, "floor_measure")
    with bb.Model() as m:
        mu_a, mu_b = bb.Normal("mu_alpha", 0, 10), bb.Normal("mu_beta", 0, 10)
        s_y, s_a, s_b = (bb.HalfNormal(n, 1) for n in ("sigma_y", "sigma_alpha", "sigma_beta"))
        a = bb.Deterministic("alpha", mu_a + s_a * bb.Normal("alpha_raw", 0, 1, shape=J))
        b = bb.Deterministic("beta", mu_b + s_b * bb.Normal("beta_raw", 0, 1, shape=J))
        bb.Normal("log_radon", a[c] + floor * b[c], s_y, observed=arr(d, "log_radon"))
    return m


def hier_2pl(d):
    ii, jj = np.asarray(d["ii"]) - 1, np.asarray(d["jj"]) - 1
    with bb.Model() as m:
        theta = bb.Normal("theta", 0, 1, shape=int(d["J"]))
        L = bb.LKJCholesky("L_Omega", 2, 4)
        tau = bb.Exponential("tau", 0.1, shape=2)
        mu = bb.Deterministic("mu", bb.math.stack([bb.Normal("mu1", 0, 1), bb.Normal("mu2", 0, 5)]))
        xi = bb.MvNormal("xi", mu, chol=tau[:, None] * L, shape=(int(d["I"]), 2))
        bb.Deterministic("xi1", xi[:, 0])
        bb.Deterministic("xi2", xi[:, 1])
        bb.Bernoulli("y", logit_p=bb.math.exp(xi[ii, 0]) * (theta[jj] - xi[ii, 1]), observed=arr(d, "y"))
    return m
