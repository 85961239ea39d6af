"""50 state-level MRP fits, on this machine and on a Dask LocalCluster: wall time and speed-up.

Each state's survey responses (W2's generator, 100,000 respondents in all) get their own multilevel
logistic regression, written as a PyMC or Stan user writes it (``sigma * z[idx]``). The fits run
    - here: bb.fit_many(client=None), one fit after another, each fit's chains on all cores;
    - on a LocalCluster of 1 worker process (1 thread), then of 2 worker processes (1 thread each),
      one fit a task, checkpointing every 100 iterations.
The cluster's draws are checked equal to the single-machine draws, bit for bit.

    python benchmarks/cluster_fit_many.py              # 50 states, 4 chains x (500 + 500)
    python benchmarks/cluster_fit_many.py --states 10 --draws 200
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import brr_bayes as bb
from workloads.data import make_w2

LEVELS = {"age": 6, "race": 4, "edu": 5}


def state_model(d):
    """Vote ~ 1 + female + (1 | age) + (1 | race) + (1 | edu) within one state, non-centred."""
    with bb.Model() as m:
        eta = bb.Normal("alpha", 0, 2.5) + bb.Normal("b_female", 0, 1) * d["female"]
        for name, n in LEVELS.items():
            sigma = bb.HalfNormal(f"sigma_{name}", 1)
            z = bb.Normal(f"z_{name}", 0, 1, shape=n)
            eta = eta + sigma * z[d[name]]
        bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m


def state_datasets(n_states, rows):
    w2 = make_w2(rows)
    out = []
    for s in range(n_states):
        keep = w2["state"] == s
        out.append({k: np.asarray(w2[k][keep]) for k in ("y", "female", *LEVELS)})
        out[-1]["female"] = out[-1]["female"].astype(np.float64)
    return out


def timed(f):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = f()
    return res, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--states", type=int, default=50)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--chains", type=int, default=4)
    args = ap.parse_args(argv)
    from distributed import Client, LocalCluster

    sets = state_datasets(args.states, args.rows)
    kw = dict(draws=args.draws, tune=args.draws, chains=args.chains, seed=2026)
    print(f"{args.states} state fits, {sum(len(d['y']) for d in sets):,} rows in all, "
          f"{args.chains} chains x ({args.draws} + {args.draws}) each")
    here, t_here = timed(lambda: bb.fit_many(state_model, sets, progressbar=False, **kw))
    rows = [("this machine, fits in turn (chains on 2 threads)", t_here)]
    cluster = {}
    for workers in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lc = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(lc)
        try:
            cluster[workers], t = timed(lambda: bb.fit_many(state_model, sets, client=client, progressbar=False, **kw))
        finally:
            client.close()
            lc.close()
        rows.append((f"LocalCluster, {workers} worker process{'es' if workers > 1 else ''} x 1 thread", t))
    same = all(np.array_equal(a.unconstrained, b.unconstrained) for a, b in zip(here, cluster[2]))
    print("\n| how | wall s | speed-up over 1 worker |\n|---|---|---|")
    for name, t in rows:
        print(f"| {name} | {t:.1f} | {rows[1][1] / t:.2f}x |")
    print(f"\ndraws on the 2-worker cluster equal the single-machine draws: {same}")
    worst = max(float(r.summary()["r_hat"].max()) for r in cluster[2])
    print(f"max R-hat over all fits: {worst:.3f}")


if __name__ == "__main__":
    main()
