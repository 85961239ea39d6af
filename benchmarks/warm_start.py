"""Warm-started refits against cold ones on W4 (poll aggregation, 5,174 parameters) grown day by day: the
last --days days added one at a time. Each day is fitted cold (tune=1000) and warm from the day before's
warm fit (tune=150, the default), both with --draws draws on 4 chains, and the warm posterior is z-checked
against the cold one over every parameter (bb.testing.assert_posterior_matches, z=5).

    python benchmarks/warm_start.py --days 2          # about 20 minutes on 2 cores
    python benchmarks/warm_start.py --days 7 --draws 1000
    python benchmarks/warm_start.py --w2 10000        # W2 (MRP, N rows) and a new survey wave of 10% more

With --w2 N the fit of W2's first N rows warms the fit of all 1.1 N (a new wave, same groups), against a
cold fit of the 1.1 N rows.

Prints one row per refit: wall seconds, min bulk ESS, min bulk ESS per second, gradient evaluations, and
the warm/cold ratios.
"""
import argparse
import time
import warnings

import numpy as np

import brr_bayes as bb
from brr_bayes.infer import warm_start
from workloads import data, models


def until(d, T):
    """W4's data as it stood after day T: the polls of days < T, T days."""
    keep = np.asarray(d["t"]) < T
    out = dict(d, T=np.int64(T))
    for k in ("t", "s", "h", "n", "y"):
        out[k] = np.asarray(d[k])[keep]
    out["P"] = np.int64(keep.sum())
    return out


def fit(model, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        res = bb.sample(model, chains=4, progressbar=False, **kw)
        seconds = time.perf_counter() - t
    ess = float(res.summary(kind="diagnostics")["ess_bulk"].min())
    return res, seconds, ess


def rows(d, n):
    """W2's first n respondents (the row arrays cut, the group-level ones kept)."""
    N = len(d["y"])
    return {k: (v[:n] if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == N and not k.startswith("cell_")
                else v) for k, v in d.items()}


def new_wave(n, draws):
    d = data.make_w2(int(n * 1.1))
    first, _, _ = fit(models.mrp_logit(rows(d, n)), draws=draws, tune=1000, seed=1)
    model = models.mrp_logit(d)
    cold, tc, ec = fit(model, draws=draws, tune=1000, seed=2)
    warm, tw, ew = fit(model, draws=draws, warm_start=first, seed=2)
    try:
        bb.testing.assert_posterior_matches(warm, cold, z=5)
        z = "pass"
    except AssertionError as e:
        z = str(e)[:120]
    print(f"W2: {n:,} rows, then a new wave to {int(n * 1.1):,}; {draws} draws x 4 chains")
    print("| fit | seconds | min bulk ESS | min ESS/s | gradients | z-check vs cold |")
    print("|---|---|---|---|---|---|")
    for name, r, t, e in (("cold", cold, tc, ec), ("warm", warm, tw, ew)):
        print(f"| {name} | {t:.1f} | {e:.0f} | {e / t:.2f} | {sum(r.grad_evals):,} | {z if name == 'warm' else ''} |")
    print(f"wall time cold/warm {tc / tw:.2f}x, min ESS/s warm/cold {(ew / tw) / (ec / tc):.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--w2", type=int, default=0, help="W2 with this many rows and a new wave of 10%% more")
    args = ap.parse_args()
    if args.w2:
        return new_wave(args.w2, args.draws)
    d = data.make_w4()
    T = int(d["T"])
    first = T - args.days
    prev, _, _ = fit(models.poll_rw(until(d, first)), draws=args.draws, tune=1000, seed=1)
    print(f"W4 grown from {first} to {T} days, {args.draws} draws x 4 chains; warm: tune={warm_start.WARM_TUNE}")
    print("| day | fit | seconds | min bulk ESS | min ESS/s | gradients | z-check vs cold |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for day in range(first + 1, T + 1):
        model = models.poll_rw(until(d, day))
        cold, tc, ec = fit(model, draws=args.draws, tune=1000, seed=day)
        warm, tw, ew = fit(model, draws=args.draws, warm_start=prev, seed=day)
        try:
            bb.testing.assert_posterior_matches(warm, cold, z=5)
            z = "pass"
        except AssertionError as e:
            z = str(e)[:120]
        for name, r, t, e in (("cold", cold, tc, ec), ("warm", warm, tw, ew)):
            print(f"| {day} | {name} | {t:.1f} | {e:.0f} | {e / t:.2f} | {sum(r.grad_evals):,} | {z if name == 'warm' else ''} |",
                  flush=True)
        ratios.append((tc / tw, (ew / tw) / (ec / tc)))
        prev = warm
    for (wall, esss), day in zip(ratios, range(first + 1, T + 1)):
        print(f"day {day}: wall time cold/warm {wall:.2f}x, min ESS/s warm/cold {esss:.2f}x")


if __name__ == "__main__":
    main()
