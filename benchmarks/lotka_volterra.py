"""Lotka-Volterra predator-prey model on the Hudson's Bay Company lynx and hare pelts (Carpenter's Stan
case study; posteriordb's hudson_lynx_hare-lotka_volterra): a default run, 4 chains x (1000 + 1000), timed
per seed, at this library's default tolerances (rtol = atol = 1e-6) and at the case study's
(rtol 1e-5, atol 1e-3, max_num_steps 500).

    python benchmarks/lotka_volterra.py [--seeds 1,2,3] [--tolerances default,case_study] [--init random]

Prints one line per run (wall seconds, divergences by cause, max R-hat, min bulk ESS, posterior means) and
the summary table of the last; the case study's posterior means are about theta = (0.55, 0.028, 0.80,
0.024), z_init = (33.9, 5.9), sigma = (0.25, 0.25).
"""
import argparse
import time
import warnings

import numpy as np

import brr_bayes as bb
from brr_bayes.model.transforms import LowerBound

# pelts in thousands, 1900-1920 (the case study's data)
LYNX = [4.0, 6.1, 9.8, 35.2, 59.4, 41.7, 19.0, 13.0, 8.3, 9.1, 7.4, 8.0, 12.3, 19.5, 45.7, 51.1, 29.7, 15.8, 9.7,
        10.1, 8.6]
HARE = [30.0, 47.2, 70.2, 77.4, 36.3, 20.6, 18.1, 21.4, 22.0, 25.4, 27.1, 40.3, 57.0, 76.6, 52.3, 19.5, 11.2, 7.6,
        14.6, 16.2, 24.7]
TOLERANCES = {"default": {}, "case_study": dict(rtol=1e-5, atol=1e-3, max_steps=500)}


def model(**solve):
    y = np.column_stack([HARE, LYNX])
    ts = np.arange(1.0, 21.0)
    with bb.Model() as m:
        theta = bb.Normal("theta", np.array([1, 0.05, 1, 0.05]), np.array([0.5, 0.05, 0.5, 0.05]),
                          transform=LowerBound(0.0), shape=4)
        z_init = bb.LogNormal("z_init", np.log(10), 1, shape=2)
        sigma = bb.LogNormal("sigma", -1, 1, shape=2)

        def rhs(t, z):
            u, v = z[0], z[1]
            return [(theta[0] - theta[1] * v) * u, (-theta[2] + theta[3] * u) * v]
        z = bb.ode.solve(rhs, z_init, ts, **solve)
        bb.LogNormal("y_init", bb.math.log(z_init), sigma, observed=y[0])
        bb.LogNormal("y", bb.math.log(z), sigma, observed=y[1:])
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--tolerances", default="default,case_study")
    ap.add_argument("--init", default=None, help="'random': uniform(-2, 2) starts instead of the default")
    args = ap.parse_args()
    init = [{}] * 4 if args.init == "random" else None   # an empty dict per chain: uniform(-2, 2)
    for tol in args.tolerances.split(","):
        for seed in map(int, args.seeds.split(",")):
            m = model(**TOLERANCES[tol])
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = bb.sample(m, seed=seed, init=init, progressbar=False)
            wall = time.perf_counter() - t
            s = res.summary()
            means = ", ".join(f"{v:.3g}" for v in s["mean"].values)
            print(f"{tol:10s} seed {seed}: {wall:6.1f} s  divergences {res.divergences() or 0}  "
                  f"max R-hat {s['r_hat'].max():.3f}  min ESS {s['ess_bulk'].min():.0f}  means [{means}]", flush=True)
    print(s)


if __name__ == "__main__":
    main()
