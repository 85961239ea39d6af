"""What checkpoints cost: a 2 x (1000 + 1500) NUTS run with checkpoint_every=50 (50 segments, each
appended to the checkpoint file) against the same run without checkpoints, in one process, alternating,
on W1 (eight schools: the fastest model, where a segment's fixed cost shows most) and W5 (radon).

    python benchmarks/checkpoint_overhead.py [--repeats 3] [--every 50] [--workloads W1,W5]

Both runs give the same draws bit for bit (tests/test_checkpoint.py); only their time differs. Each cell is
the median wall time of --repeats runs; the ratio is checkpointed / plain.
"""
import argparse
import os
import statistics
import tempfile
import time
import warnings

import brr_bayes as bb
import workloads as wl

MODELS = {"W1": lambda: wl.eight_schools(wl.make_w1()), "W5": lambda: wl.radon(wl.make_w5()),
          "W3": lambda: wl.bym2(wl.make_w3())}
KW = dict(chains=2, tune=1000, draws=1500, seed=1, progressbar=False)


def timed(model, **kw):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bb.sample(model, **dict(KW, **kw))
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--workloads", default="W1,W5")
    args = ap.parse_args()
    print(f"| workload | no checkpoints (s) | checkpoint_every={args.every} (s) | checkpoints a chain | file size | ratio |")
    print("|---|---|---|---|---|---|")
    for name in args.workloads.split(","):
        model = MODELS[name]()
        timed(model, draws=10, tune=10)       # compile and warm the caches outside the timing
        plain, ckpt = [], []
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "run.ckpt")
            for _ in range(args.repeats):
                plain.append(timed(model))
                ckpt.append(timed(model, checkpoint=path, checkpoint_every=args.every, overwrite=True))
            size = os.path.getsize(path)
        a, b = statistics.median(plain), statistics.median(ckpt)
        segments = (KW["tune"] + KW["draws"] + args.every - 1) // args.every
        print(f"| {name} | {a:.2f} | {b:.2f} | {segments} | {size / 2**20:.1f} MiB | {b / a:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
