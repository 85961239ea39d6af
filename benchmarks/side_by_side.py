"""Two builds of brr_bayes measured in one run, turn about: logp+gradient evaluations per second at the zero
point (W1-W5) and 4-chain NUTS sampling seconds, to show a change costs no speed.

    git worktree add /tmp/old <commit> && (cd /tmp/old && python setup.py build_ext --inplace)
    python setup.py build_ext --inplace          # this tree, or pip install -e .
    python benchmarks/side_by_side.py /tmp/old . [--rounds 5] [--sampling W1,W3] [--out FILE]

Each measurement runs in a fresh process whose PYTHONPATH is the tree, old and new alternating, so both
see the same machine load; a cell is the best (logp) or the median (sampling) of --rounds.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

from harness import write_table

CHILD = r"""
import json, sys, time, warnings
import numpy as np
import brr_bayes as bb
try:
    import workloads as wl                   # the tree's benchmarks/workloads
except ImportError:                          # a tree from before they left the package
    from brr_bayes import workloads as wl
build = {"W1": lambda: wl.eight_schools(wl.make_w1()), "W2": lambda: wl.mrp_logit(wl.make_w2()),
         "W3": lambda: wl.bym2(wl.make_w3()), "W4": lambda: wl.poll_rw(wl.make_w4()),
         "W5": lambda: wl.radon(wl.make_w5())}
what, name = sys.argv[1], sys.argv[2]
m = build[name]()
if what == "logp":
    p = m.compiled.program
    x = np.zeros(m.dim)
    t0 = time.perf_counter(); p.benchmark(x, 20, 1); one = (time.perf_counter() - t0) / 20
    n = max(20, int(0.5 / max(one, 1e-7)))
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter(); p.benchmark(x, n, 1); best = max(best, n / (time.perf_counter() - t0))
    print(json.dumps(best))
else:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bb.sample(m, chains=4, draws=1000, tune=1000, seed=1, progressbar=False)
    print(json.dumps(r.seconds))
"""


def measure(tree, what, name):
    tree = os.path.abspath(tree)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([tree, os.path.join(tree, "benchmarks")]))
    out = subprocess.run([sys.executable, "-c", CHILD, what, name], env=env, cwd="/", capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--logp", default="W1,W2,W3,W4,W5")
    ap.add_argument("--sampling", default="W1,W3")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    lines = ["| measure | workload | old | new | new / old |", "|---|---|---:|---:|---:|"]
    for what, names, pick, unit in (("logp", args.logp, max, "evals/s"), ("sample", args.sampling, statistics.median, "s")):
        for name in filter(None, names.split(",")):
            runs = {"old": [], "new": []}
            for _ in range(args.rounds):
                for side in ("old", "new"):
                    runs[side].append(measure(getattr(args, side), what, name))
            a, b = pick(runs["old"]), pick(runs["new"])
            ratio = b / a if what == "logp" else a / b   # > 1: the new build is faster
            lines.append(f"| {what} ({unit}) | {name} | {a:,.1f} | {b:,.1f} | {ratio:.2f}x |")
            print(lines[-1], flush=True)
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
