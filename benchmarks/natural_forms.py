"""Every formulation of a workload runs at the fastest form's speed: logp+gradient evaluations per second
of each form in benchmarks/workloads/forms.py, measured in alternating rounds in one process, with the
largest difference in value and gradient from the workloads' own form.

    python benchmarks/natural_forms.py                 # W2 at 100,000 rows, W3, W4, W5
    python benchmarks/natural_forms.py --w2-rows 10000 --rounds 5 --peers numpyro
    python benchmarks/natural_forms.py --workloads W2 --sample 10000   # also sample three W2 forms
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from workloads import forms, make_w3, make_w4, make_w5
from workloads.data import make_w2


def build(workload, d):
    out = {}
    for name, fn in forms.FORMS[workload].items():
        t = time.perf_counter()
        m = fn(d)
        m.compiled
        out[name] = (m, None, time.perf_counter() - t)
    for name, (fn, layout_map) in forms.EXTRA_FORMS.get(workload, {}).items():
        t = time.perf_counter()
        m = fn(d)
        m.compiled
        try:
            layout_map(out["workloads"][0], m)
        except ValueError as e:   # not the same parameter space on these data: say so, compare nothing
            print(f"{workload}: form '{name}' left out: {e}")
            continue
        out[name] = (m, layout_map, time.perf_counter() - t)
    return out


def differences(ref, m, layout_map, points):
    """Largest relative difference in log density and gradient from the reference form."""
    perm = layout_map(ref, m) if layout_map else None
    dl = dg = 0.0
    for x in points:
        l0, g0 = ref.logp_and_grad(x)
        if perm is not None:
            y = np.zeros(m.dim)
            y[perm] = x
            l1, g1 = m.logp_and_grad(y)
            g1 = g1[perm]
        else:
            l1, g1 = m.logp_and_grad(x)
        dl = max(dl, abs(l1 - l0) / abs(l0))
        dg = max(dg, float(np.max(np.abs(g1 - g0)) / np.max(np.abs(g0))))
    return dl, dg


def rates(models, points, rounds, seconds):
    """grad/s per form: the best of its rounds, forms alternating within each round (another process's
    load only ever slows a round down, so the best round is the least disturbed)."""
    per = {name: [] for name in models}
    for _ in range(rounds):
        for name, (m, layout_map, _) in models.items():
            x = points[0]
            if layout_map:
                y = np.zeros(m.dim)
                y[layout_map(models["workloads"][0], m)] = x
                x = y
            prog = m.compiled.program
            reps = 50
            while True:
                t = time.perf_counter()
                prog.benchmark(x, reps)
                dt = time.perf_counter() - t
                if dt > seconds / 4 or reps > 1_000_000:
                    break
                reps *= 4
            per[name].append(reps / dt)
    return {name: max(v) for name, v in per.items()}


def sample_forms(d, names=("workloads", "stan_rows", "formula"), seed=1):
    """Sample W2 written three ways (4 chains, 1000 + 1000) and compare their posteriors coordinate by
    coordinate on the unconstrained scale: z = difference of means / sqrt(mcse_a^2 + mcse_b^2), with
    mcse = sd / sqrt(bulk ESS). Over 311 coordinates of the same posterior, max |z| should be near 3.5."""
    import warnings

    import brr_bayes as bb
    from brr_bayes.infer.convergence import rhat_and_ess_bulk
    fns = {**forms.FORMS["W2"], **{k: v[0] for k, v in forms.EXTRA_FORMS["W2"].items()}}
    maps = {k: v[1] for k, v in forms.EXTRA_FORMS["W2"].items()}
    ref_model = fns["workloads"](d)
    out = {}
    for name in names:
        m = fns[name](d)
        if name in maps:
            try:
                maps[name](ref_model, m)
            except ValueError as e:
                print(f"W2: form '{name}' not sampled: {e}")
                continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = bb.sample(m, draws=1000, tune=1000, chains=4, seed=seed, progressbar=False)
        u = res.unconstrained
        if name in maps:
            u = u[..., maps[name](ref_model, m)]
        rhat, ess = rhat_and_ess_bulk(u)
        out[name] = dict(seconds=res.seconds, ess=float(np.nanmin(ess)), rhat=float(np.nanmax(rhat)),
                         mean=u.mean(axis=(0, 1)), mcse=u.std(axis=(0, 1)) / np.sqrt(ess))
    print(f"\nW2 ({len(d['y']):,} rows) sampled three ways, 4 chains x (1000 + 1000), seed {seed}:")
    print("| form | seconds | min bulk-ESS | ESS/s | max R-hat | max abs z vs workloads | z > 4 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = out[names[0]]
    for name, r in out.items():
        z = np.abs(r["mean"] - base["mean"]) / np.sqrt(r["mcse"] ** 2 + base["mcse"] ** 2)
        zmax, over = (float(np.max(z)), int(np.sum(z > 4))) if name != names[0] else (0.0, 0)
        print(f"| {name} | {r['seconds']:.1f} | {r['ess']:.0f} | {r['ess'] / r['seconds']:.1f} | {r['rhat']:.3f} "
              f"| {zmax:.2f} | {over} |")


def numpyro_natural_rate(d, seconds=2.0):
    """NumPyro's W2 written naturally (row-level Zs @ beta, sigma * z[idx]), jitted value-and-grad."""
    from harness.peers_numpyro import w2_natural_rate
    return w2_natural_rate(d, seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--w2-rows", type=int, default=100_000)
    ap.add_argument("--workloads", default="W2,W3,W4,W5")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.4, help="time per form per round")
    ap.add_argument("--peers", default="", help="numpyro: also time NumPyro's natural W2 in this run")
    ap.add_argument("--sample", type=int, default=0, metavar="ROWS",
                    help="also sample W2 at ROWS rows written three ways and compare the posteriors")
    a = ap.parse_args()
    makers = {"W2": lambda: make_w2(a.w2_rows), "W3": make_w3, "W4": make_w4, "W5": make_w5}
    for w in a.workloads.split(","):
        d = makers[w]()
        models = build(w, d)
        ref = models["workloads"][0]
        rng = np.random.default_rng(1)
        points = [rng.normal(scale=0.3, size=ref.dim) for _ in range(3)]
        r = rates(models, points, a.rounds, a.seconds)
        best = max(r.values())
        title = f"{w}" + (f" ({a.w2_rows:,} rows)" if w == "W2" else "")
        print(f"\n{title}: {len(models)} formulations, grad/s best of {a.rounds} alternating rounds")
        print(f"| form | grad/s | fastest / this | build s | max rel. diff logp | max rel. diff grad |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, (m, layout_map, tb) in models.items():
            dl, dg = differences(ref, m, layout_map, points)
            print(f"| {name} | {r[name]:,.0f} | {best / r[name]:.2f} | {tb:.2f} | {dl:.1e} | {dg:.1e} |")
        if w == "W2" and "numpyro" in a.peers:
            nr = numpyro_natural_rate(d)
            m = models["stan_rows"][0]
            x = np.zeros(m.dim)
            call = 0.0
            for _ in range(3):  # one Python call per evaluation, as NumPyro's jitted function is timed
                n, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < 0.5:
                    m.logp_and_grad(x)
                    n += 1
                call = max(call, n / (time.perf_counter() - t0))
            print(f"\nW2 natural form (stan_rows / NumPyro's same code), one Python call per evaluation, same run:")
            print(f"| engine | grad/s |\n|---|---:|\n| brr_bayes | {call:,.0f} |\n| NumPyro | {nr:,.0f} |")
            print(f"ratio: {call / nr:.1f}x")
    if a.sample:
        sample_forms(make_w2(a.sample))


if __name__ == "__main__":
    main()
