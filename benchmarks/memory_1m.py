"""Peak memory of W2 at 1,000,000 rows through each phase: data, model build (exact compression into
binomial cells and compile), and a full sampling run on SPEC's protocol (4 chains, 1000 + 1000).

Peak RSS is the process's high-water mark (getrusage ru_maxrss) read after each phase, so each
figure includes the phases before it.

    python benchmarks/memory_1m.py [--rows 1000000] [--draws 1000] [--tune 1000]
"""
import argparse
import resource
import time

import brr_bayes as bb
from workloads import make_w2, mrp_logit


def peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(f"start: peak RSS {peak_gb():.2f} GB")
    t = time.perf_counter()
    d = make_w2(a.rows)
    print(f"data ({a.rows:,} rows): {time.perf_counter() - t:.1f} s, peak RSS {peak_gb():.2f} GB")
    t = time.perf_counter()
    m = mrp_logit(d)
    m.compiled  # compression + compile
    print(f"model build: {time.perf_counter() - t:.1f} s, peak RSS {peak_gb():.2f} GB")
    t = time.perf_counter()
    res = bb.sample(m, draws=a.draws, tune=a.tune, chains=4, seed=a.seed, progressbar=False)
    wall = time.perf_counter() - t
    s = res.summary()
    print(f"sampling: {res.seconds:.1f} s sampling ({wall:.1f} s with post-processing), "
          f"peak RSS {peak_gb():.2f} GB; min bulk-ESS {s['ess_bulk'].min():.0f}, "
          f"max R-hat {s['r_hat'].max():.3f}, divergences {int(res.sample_stats['diverging'].sum())}")


if __name__ == "__main__":
    main()
