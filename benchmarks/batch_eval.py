"""The batch executor on the CPU: logp+gradient evaluations per second of B points of one model, as
lane-interleaved sweeps (lane kernels in tiles of 8, 16 or all B lanes) against B separate scalar
evaluations (each point with its own workspace, as B independent chains would evaluate), on the same
threads, in the same run. The ways are timed in turn, round after round, and each keeps its best round,
so that the shared machine's slow spells do not land on one way only.

    python benchmarks/batch_eval.py [--lanes 64] [--threads 1,2] [--workloads W1,W3,W4,W5] [--out FILE]

Both ways give every point the same values bit for bit (tests/test_batch.py); only their speed differs.
A second table times the same from Python: a loop of model.logp_and_grad against model.logp_and_grad_batch.
Each cell is the best of --repeats rounds of --seconds each; the ratio is the best tile / separate. "auto" is what
the sampler's batch (ChEES) gets: the executor times both ways, on the threads and on one, at its first call.
"""
import argparse
import time

import numpy as np

import workloads as wl
from harness import write_table
from workloads import forms

MODELS = {
    "W1": lambda: {"models.py": wl.eight_schools(wl.make_w1())},
    "W2": lambda: {"models.py": wl.mrp_logit(wl.make_w2(10_000))},
    "W3": lambda: {"models.py": wl.bym2(wl.make_w3())},
    "W4": lambda: {"models.py": wl.poll_rw(wl.make_w4()), "natural": forms.w4_natural(wl.make_w4())},
    "W5": lambda: {"models.py": wl.radon(wl.make_w5()), "stan": forms.w5_stan(wl.make_w5())},
}


def rates(program, X, threads, tiles, seconds, repeats):
    """{tile: (evaluations per second, what the executor ran with: 'tile T' or 'separate', its threads)}."""
    one = program.benchmark_batch(X, 1, threads, -1)["seconds"]
    rounds = max(1, int(seconds / max(one, 1e-6)))
    best = {}
    for _ in range(repeats):
        for tile in tiles:
            r = program.benchmark_batch(X, rounds, threads, tile)
            if tile not in best or r["seconds"] < best[tile]["seconds"]:
                best[tile] = r
    out = {}
    for tile, r in best.items():
        way = "separate" if r["tile"] < 0 else f"tile {r['tile']}"
        out[tile] = (X.shape[0] * rounds / r["seconds"], f"{way}, {r['threads']} thread(s)")
    return out


def python_rates(m, X, threads, seconds, repeats):
    """(a Python loop of model.logp_and_grad over the rows, model.logp_and_grad_batch of all rows): evaluations
    per second as a user calling the model from Python gets them, each the best of `repeats` rounds."""
    def rate(call):
        call()  # the batch's first call of a shape picks its way by timing; later calls reuse it
        best = 0.0
        for _ in range(repeats):
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                call()
                n += 1
            best = max(best, n * X.shape[0] / (time.perf_counter() - t0))
        return best
    return rate(lambda: [m.logp_and_grad(x) for x in X]), rate(lambda: m.logp_and_grad_batch(X, threads=threads))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lanes", type=int, default=64)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    ap.add_argument("--seconds", type=float, default=0.3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    lanes = args.lanes
    lines = ["| workload | form | threads | separate evals/s | tile 8 | tile 16 | "
             f"tile {lanes} | best tile / separate | auto evals/s | auto ran |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for w in args.workloads.split(","):
        for form, m in MODELS[w]().items():
            p = m.compiled.program
            X = np.random.default_rng(1).normal(scale=0.3, size=(lanes, p.dim))
            for th in (int(t) for t in args.threads.split(",")):
                r = rates(p, X, th, [-1, 8, 16, lanes, 0], args.seconds, args.repeats)
                sep = r[-1][0]
                best = max(r[t][0] for t in (8, 16, lanes))
                cells = " | ".join(f"{r[t][0]:,.0f}" for t in (8, 16, lanes))
                lines.append(f"| {w} | {form} | {th} | {sep:,.0f} | {cells} | {best / sep:.2f}x | "
                             f"{r[0][0]:,.0f} | {r[0][1]} |")
                print(lines[-1], flush=True)
    lines += ["", f"From Python: a loop of model.logp_and_grad over {lanes} points against model.logp_and_grad_batch of "
              "them (after its first call), evaluations per second", "",
              "| workload | form | threads | Python loop | logp_and_grad_batch | batch / loop |", "|---|---|---:|---:|---:|---:|"]
    for w in args.workloads.split(","):
        for form, m in MODELS[w]().items():
            X = np.random.default_rng(1).normal(scale=0.3, size=(lanes, m.dim))
            for th in (int(t) for t in args.threads.split(",")):
                loop, batch = python_rates(m, X, th, args.seconds, args.repeats)
                lines.append(f"| {w} | {form} | {th} | {loop:,.0f} | {batch:,.0f} | {batch / loop:.2f}x |")
                print(lines[-1], flush=True)
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
