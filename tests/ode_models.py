"""The Lotka-Volterra predator-prey model the ODE tests sample (Carpenter's Stan case study, on
simulated data): shared by tests/test_ode.py and tests/data/make_ode_reference.py."""
import numpy as np
from scipy.integrate import solve_ivp

import brr_bayes as bb
from brr_bayes.model.transforms import LowerBound

TRUTH = dict(alpha=0.55, beta=0.028, gamma=0.80, delta=0.024, z0=np.array([33.0, 6.2]), sigma=np.array([0.25, 0.25]))
TIMES = np.arange(1.0, 21.0)


def lv_rhs(theta):
    a, b, g, d = theta

    def f(t, z):
        u, v = z
        return [(a - b * v) * u, (-g + d * u) * v]
    return f


def simulate(seed=3):
    t = TRUTH
    sol = solve_ivp(lv_rhs([t["alpha"], t["beta"], t["gamma"], t["delta"]]), (0.0, TIMES[-1]), t["z0"],
                    t_eval=TIMES, rtol=1e-10, atol=1e-10)
    rng = np.random.default_rng(seed)
    return np.exp(np.log(sol.y.T) + rng.normal(0, t["sigma"], size=sol.y.T.shape))


def lotka_volterra(y, method="rk45", rtol=1e-6, atol=1e-6):
    with bb.Model() as m:
        alpha = bb.Normal("alpha", 1, 0.5, transform=LowerBound(0.0))
        gamma = bb.Normal("gamma", 1, 0.5, transform=LowerBound(0.0))
        beta = bb.Normal("beta", 0.05, 0.05, transform=LowerBound(0.0))
        delta = bb.Normal("delta", 0.05, 0.05, transform=LowerBound(0.0))
        z0 = bb.LogNormal("z0", np.log(10), 1, shape=2)
        sigma = bb.LogNormal("sigma", -1, 1, shape=2)

        def rhs(t, z):
            u, v = z[0], z[1]
            return [(alpha - beta * v) * u, (-gamma + delta * u) * v]
        z = bb.ode.solve(rhs, z0, TIMES, method=method, rtol=rtol, atol=atol)
        bb.Deterministic("z", z)
        bb.LogNormal("y", bb.math.log(z), sigma, observed=y)
    return m
