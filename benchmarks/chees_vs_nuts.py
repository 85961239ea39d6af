"""ChEES-HMC (sampler='chees', many chains in lock-step) against NUTS on the CPU: min bulk-ESS per
1,000 gradient evaluations (independent of machine load) and per second (this machine, one run).

    python benchmarks/chees_vs_nuts.py [--chains 64] [--seed 1] [--out FILE]

NUTS: 4 chains x (1000 + 1000). ChEES: --chains chains x (--tune + --draws); both start from
Pathfinder draws, whose cost (gradients and seconds) is counted in neither.
"""
import argparse
import time
import warnings

import brr_bayes as bb
from brr_bayes import workloads as wl
from brr_bayes.bench import _max_rhat, _min_bulk_ess, write_table

MODELS = [("W1 eight schools", lambda: wl.eight_schools(wl.make_w1())),
          ("W4 poll_rw", lambda: wl.poll_rw(wl.make_w4())),
          ("W5 radon", lambda: wl.radon(wl.make_w5()))]


def run(model, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        r = bb.sample(model, progressbar=False, init="pathfinder", **kw)
        seconds = time.perf_counter() - t0
    ess = _min_bulk_ess(r.posterior, model.param_names)
    return dict(ess=ess, per_1k=ess / sum(r.grad_evals) * 1000, per_s=ess / r.seconds, seconds=seconds,
                rhat=_max_rhat(r.posterior, model.param_names), grads=sum(r.grad_evals))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chains", type=int, default=64)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    lines = ["| model | NUTS ESS/1k grads | ChEES ESS/1k grads | ratio | NUTS ESS/s | ChEES ESS/s | ratio | "
             "max R-hat NUTS / ChEES |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, build in MODELS:
        model = build()
        nuts = run(model, seed=args.seed)
        chees = run(model, sampler="chees", chains=args.chains, tune=args.tune, draws=args.draws, seed=args.seed)
        lines.append(f"| {name} | {nuts['per_1k']:.2f} | {chees['per_1k']:.2f} | {chees['per_1k'] / nuts['per_1k']:.2f} "
                     f"| {nuts['per_s']:.0f} | {chees['per_s']:.0f} | {chees['per_s'] / nuts['per_s']:.2f} "
                     f"| {nuts['rhat']:.3f} / {chees['rhat']:.3f} |")
        print(lines[-1], flush=True)
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
