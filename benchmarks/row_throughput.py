"""W2's gradient cost per row against one streaming read of its row arrays, at 1,000,000 rows.

Compression into binomial cells is switched off here so that the fused GLM op really visits every row
(SPEC.md's scale target: the gradient's cost per row within 3x of one streaming numpy pass over the
same arrays). Both run in this process, alternating, so the ratio is robust to machine load; the GLM
op is timed on 1, 2, ... row threads (results are bitwise identical for every thread count).

    python benchmarks/row_throughput.py [--rows 1000000] [--threads 1 2]
"""
import argparse
import statistics
import time

import numpy as np

import brr_bayes as bb
from workloads import make_w2, mrp_logit

ROW_ARRAYS = ("state", "age", "race", "edu", "region", "state_race", "age_edu", "female", "y")


def timed(fn, reps):
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()

    d = make_w2(a.rows)
    m = mrp_logit(d)
    m.compile_options = bb.CompileOptions(compress=False)  # every row goes through the GLM op
    prog = m.compiled.program
    x = np.random.default_rng(0).normal(size=m.dim) * 0.3
    # the bytes the op streams per evaluation: its index arrays and data columns as the op holds them
    # (int32 indices, float64 columns), and the same arrays as numpy holds them for the baseline pass
    op_bytes = a.rows * (7 * 4 + 2 * 8)
    arrays = [np.ascontiguousarray(d[k]) for k in ROW_ARRAYS]
    np_bytes = sum(v.nbytes for v in arrays)

    numpy_s, op_s = [], {t: [] for t in a.threads}
    for _ in range(a.repeats):
        numpy_s.append(timed(lambda: [v.sum() for v in arrays], 3))
        for t in a.threads:
            op_s[t].append(timed(lambda: prog.benchmark(x, 1, row_threads=t), 3))
    np_t = statistics.median(numpy_s)
    print(f"W2, {a.rows:,} rows, {m.dim} parameters, compression off")
    print(f"numpy streaming pass over the row arrays: {np_t * 1e3:.2f} ms ({np_bytes / np_t / 1e9:.2f} GB/s)")
    for t in a.threads:
        s = statistics.median(op_s[t])
        print(f"logp+gradient, {t} row thread(s): {s * 1e3:.2f} ms/eval, {s / a.rows * 1e9:.1f} ns/row, "
              f"{op_bytes / s / 1e9:.2f} GB/s of row data; {s / np_t:.2f}x the numpy pass")


if __name__ == "__main__":
    main()
