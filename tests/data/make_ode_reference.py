"""Writes tests/data/ode/lotka_volterra_reference.json: a long reference run of the Lotka-Volterra
model (tests/ode_models.py) solved with BDF at tight tolerances, which the short RK45 run in
tests/test_ode.py must agree with. Run from the repository root: python tests/data/make_ode_reference.py"""
import json
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import brr_bayes as bb  # noqa: E402
from ode_models import lotka_volterra, simulate  # noqa: E402

NAMES = ["alpha", "beta", "gamma", "delta", "z0[0]", "z0[1]", "sigma[0]", "sigma[1]"]

if __name__ == "__main__":
    m = lotka_volterra(simulate(), method="bdf", rtol=1e-8, atol=1e-8)
    res = bb.sample(m, draws=3000, tune=1000, chains=4, seed=20261202, init="pathfinder", progressbar=False)
    out = {}
    for name in NAMES:   # unrounded (Result.summary rounds for display)
        base, _, idx = name.partition("[")
        d = res.posterior[base] if not idx else res.posterior[base][..., int(idx[:-1])]
        rhat, ess = bb.convergence.rhat_and_ess_bulk(d)
        out[name] = dict(mean=float(d.mean()), sd=float(d.std(ddof=1)), ess_bulk=float(ess), r_hat=float(rhat))
    out["_run"] = "bdf rtol=atol=1e-8, 4 chains x (1000 tune + 3000 draws), init='pathfinder', seed 20261202"
    (HERE / "ode").mkdir(exist_ok=True)
    (HERE / "ode" / "lotka_volterra_reference.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
