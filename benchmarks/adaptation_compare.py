"""Min bulk-ESS per gradient evaluation of the metric adaptations, on the reference workloads and a few
posteriordb posteriors. Gradient counts do not depend on machine load, so this comparison is noise-free
up to Monte Carlo error; each cell is the median over seeds.

    python benchmarks/adaptation_compare.py [--seeds 3] [--adapts stan,fisher,nutpie,low_rank] [--out FILE]
"""
import argparse
import json
import pathlib
import statistics
import sys
import warnings

import numpy as np

import brr_bayes as bb
import workloads as wl
from harness import _min_bulk_ess, write_table

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def models():
    out = [("W1 eight schools", lambda: wl.eight_schools(wl.make_w1())),
           ("W2 mrp_logit (N=10k)", lambda: wl.mrp_logit(wl.make_w2(10_000))),
           ("W3 bym2", lambda: wl.bym2(wl.make_w3())),
           ("W4 poll_rw", lambda: wl.poll_rw(wl.make_w4())),
           ("W5 radon", lambda: wl.radon(wl.make_w5()))]
    shared = HERE.parent.parent / "shared" / "posteriordb"
    if shared.exists():
        import posteriordb_models as pm
        for folder, fn in [("kidiq-kidscore_interaction", pm.kidscore_interaction), ("arK-arK", pm.ark),
                           ("mesquite-logmesquite", pm.logmesquite),
                           ("earnings-logearn_interaction_z", pm.logearn_interaction_z)]:
            out.append((folder, lambda f=folder, b=fn: b(json.load(open(shared / f / "data.json")))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip", default="", help="comma-separated substrings of model names to leave out")
    ap.add_argument("--adapts", default="stan,fisher,nutpie", help="adaptations to compare ('low_rank': metric='low_rank'); the first is the base")
    args = ap.parse_args()
    skip = [k for k in args.skip.split(",") if k]
    adapts = [a for a in args.adapts.split(",") if a]
    base = adapts[0]
    lines = ["| model | " + " | ".join(f"adapt='{a}' ESS/1000 grads" for a in adapts) + " | "
             + " | ".join(f"{a} / {base}" for a in adapts[1:]) + " |",
             "|---|" + "---|" * (2 * len(adapts) - 1)]
    for name, build in models():
        if any(k in name for k in skip):
            continue
        model = build()
        eff = {}
        for adapt in adapts:
            vals = []
            for seed in range(args.seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # 'low_rank' stands for metric='low_rank' (Fisher diagonal + low rank in Stan's windows)
                    metric, how = ("low_rank", None) if adapt == "low_rank" else ("diag", adapt)
                    r = bb.sample(model, adapt=how, metric=metric, seed=seed, progressbar=False)
                vals.append(_min_bulk_ess(r.posterior, model.param_names) / sum(r.grad_evals) * 1000)
            eff[adapt] = statistics.median(vals)
        lines.append(f"| {name} | " + " | ".join(f"{eff[a]:.2f}" for a in adapts) + " | "
                     + " | ".join(f"{eff[a] / eff[base]:.2f}" for a in adapts[1:]) + " |")
        print(lines[-1], flush=True)
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
