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
    m = lotka_volterra(simulate(), method="bdf", rtol=1e-9, atol=1e-9)
    res = bb.sample(m, draws=5000, tune=1000, chains=4, seed=20261202, init="pathfinder", progressbar=False)
    s = res.summary()
    out = {n: dict(mean=float(s.loc[n, "mean"]), sd=float(s.loc[n, "sd"]), ess_bulk=float(s.loc[n, "ess_bulk"]),
                   r_hat=float(s.loc[n, "r_hat"])) for n in NAMES}
    out["_run"] = "bdf rtol=atol=1e-9, 4 chains x (1000 tune + 5000 draws), init='pathfinder', seed 20261202"
    (HERE / "ode").mkdir(exist_ok=True)
    (HERE / "ode" / "lotka_volterra_reference.json").write_text(json.dumps(out, indent=1) + "\n")
    print(s.loc[NAMES])
