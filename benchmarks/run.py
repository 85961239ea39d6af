"""The benchmark suite: logp+gradient throughput and sampling efficiency on W1-W5, with the peers
(NumPyro, nutpie, Stan) measured in the same run when they are installed (`pip install .[peers]`).
RESULTS.md's current figures come from

    python benchmarks/run.py --peers numpyro,nutpie --out results.md

Run from a checkout (the workloads and peer models live here in benchmarks/, not in the package).
"""
from __future__ import annotations

import argparse
import sys

from harness import main as bench_main


def main(argv=None):
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    p.add_argument("--workloads", default="W1,W2,W3,W4,W5", help="comma-separated subset of W1..W5")
    p.add_argument("--out", default=None, help="write the table as markdown to this file")
    p.add_argument("--no-peers", action="store_true", help="measure brr_bayes only")
    p.add_argument("--peers", default="numpyro,nutpie,stan", help="comma-separated peers to run when installed")
    p.add_argument("--metrics", default="diag",
                   help="brr_bayes metrics to sample with, one row each (e.g. diag,low_rank)")
    p.add_argument("--adapt", default="default",
                   help="brr_bayes warm-ups to sample with, one row each (e.g. stan,nutpie; 'default' is bb.sample's)")
    p.add_argument("--no-sampling", action="store_true", help="only logp+gradient throughput")
    p.add_argument("--no-logp", action="store_true", help="only the sampling table")
    p.add_argument("--w2-sampling-rows", type=int, default=10_000,
                   help="respondents of W2 in the sampling table (SPEC variants: 10000, 100000, 1000000)")
    a = p.parse_args(argv)
    return bench_main(quick=a.quick, workloads=a.workloads, out=a.out, peers=not a.no_peers,
                      sampling=not a.no_sampling, w2_sampling_rows=a.w2_sampling_rows, logp=not a.no_logp,
                      peer_names=a.peers, metrics=a.metrics, adapts=a.adapt)


if __name__ == "__main__":
    sys.exit(main())
