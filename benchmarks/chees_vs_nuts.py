"""The lock-step samplers (sampler='chees' and 'meads', many chains) against NUTS on the CPU: min
bulk-ESS per 1,000 gradient evaluations (independent of machine load) and per second (this machine,
one run; ESS/s counts sampling time only), with max R-hat and, for the ensembles, max nested R-hat
(4 superchains). "wall seconds" also counts Pathfinder and the diagnostics over all the draws.

    python benchmarks/chees_vs_nuts.py [--chains 64] [--seed 1] [--samplers chees,meads] [--out FILE]

--workloads takes W1, W3, W4, W5 and the natural forms W4n (W4 as Stan writes it) and W5s.

NUTS: 4 chains x (1000 + 1000). ChEES: --chains chains x (--tune + --draws). MEADS: --chains chains x
(--meads-tune + --meads-draws): one gradient per iteration, so it runs more iterations. All start from
Pathfinder draws, whose cost (gradients and seconds) is counted in none.
"""
import argparse
import time
import warnings

import numpy as np

import brr_bayes as bb
import workloads as wl
from workloads import forms
from harness import _max_nested_rhat, _max_rhat, _min_bulk_ess, write_table

MODELS = {"W1": ("W1 eight schools", lambda: wl.eight_schools(wl.make_w1())),
          "W3": ("W3 bym2", lambda: wl.bym2(wl.make_w3())),
          "W4": ("W4 poll_rw", lambda: wl.poll_rw(wl.make_w4())),
          "W5": ("W5 radon", lambda: wl.radon(wl.make_w5())),
          # the same models written as a Stan or PyMC user writes them (no fast path may depend on form)
          "W4n": ("W4 poll_rw natural", lambda: forms.w4_natural(wl.make_w4())),
          "W5s": ("W5 radon stan", lambda: forms.w5_stan(wl.make_w5()))}


def run(model, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        r = bb.sample(model, progressbar=False, init="pathfinder", **kw)
        seconds = time.perf_counter() - t0
    ess = _min_bulk_ess(r.posterior, model.param_names)
    nested = float("nan")
    if kw.get("sampler", "nuts") != "nuts":
        nested = _max_nested_rhat(r, model.param_names)
    return dict(ess=ess, per_1k=ess / sum(r.grad_evals) * 1000, per_s=ess / r.seconds, seconds=seconds,
                rhat=_max_rhat(r.posterior, model.param_names), nested=nested, grads=sum(r.grad_evals))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chains", type=int, default=64)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--meads-tune", type=int, default=2000)
    ap.add_argument("--meads-draws", type=int, default=2000)
    ap.add_argument("--samplers", default="chees,meads")
    ap.add_argument("--workloads", default="W1,W4,W5")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    lines = ["| model | sampler | chains x (tune + draws) | min ESS | ESS/1k grads | vs NUTS | ESS/s | vs NUTS | "
             "max R-hat | max nested R-hat | wall seconds |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for w in args.workloads.split(","):
        name, build = MODELS[w]
        model = build()
        nuts = run(model, seed=args.seed)
        rows = [("nuts", "4 x (1000 + 1000)", nuts)]
        for s in args.samplers.split(","):
            tune, draws = (args.meads_tune, args.meads_draws) if s == "meads" else (args.tune, args.draws)
            r = run(model, sampler=s, chains=args.chains, tune=tune, draws=draws, seed=args.seed)
            rows.append((s, f"{args.chains} x ({tune} + {draws})", r))
        for s, shape, r in rows:
            lines.append(f"| {name} | {s} | {shape} | {r['ess']:.0f} | {r['per_1k']:.2f} | "
                         f"{r['per_1k'] / nuts['per_1k']:.2f} | {r['per_s']:.0f} | {r['per_s'] / nuts['per_s']:.2f} | "
                         f"{r['rhat']:.3f} | {r['nested']:.3f} | {r['seconds']:.0f} |")
            print(lines[-1], flush=True)
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
