"""The brr-bayes command line: demo, explain, info (the benchmarks run from a checkout: benchmarks/run.py)."""
from __future__ import annotations

import argparse
import os
import runpy
import sys

import numpy as np

import brr_bayes as bb
from brr_bayes import _backend
from brr_bayes.demo import run_demo
from brr_bayes.infer import sampling


def _info(args):

    core = _backend.core()
    info = dict(core.build_info)
    print(f"brr_bayes {bb.__version__}")
    print(f"  python       {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"  compiler     {info['compiler']} (C++ standard {info['cxx_standard']})")
    print(f"  flags        {info['cxx_flags']}")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count()
    print(f"  threads      {cores} usable cores (hardware threads: {info['hardware_threads']}); "
          "bb.sample runs one chain per thread")
    print(f"  CUDA built   {bb.cuda_built()}")
    gpu = "no"
    if bb.cuda_available():
        mod = _backend.cuda_module()
        gpu = ", ".join(mod.device_name(i) for i in range(mod.device_count()))
    print(f"  GPU visible  {gpu}")
    return 0


def _demo(args):
    run_demo(n=args.n, draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
             progressbar=not args.quiet)
    return 0


class _Built(Exception):
    """Raised in place of sampling: the script has built its model."""


def _explain(args):
    """Run a model script up to its first sampling call and print what the compiler made of each model."""


    seen = []

    def stop(model, *a, **k):
        seen.append(model)
        raise _Built

    saved = (bb.sample, sampling.sample)
    bb.sample = sampling.sample = stop
    sys.argv = [args.script] + args.script_args
    try:
        ns = runpy.run_path(args.script, run_name="__main__")
    except _Built:
        ns = {}
    finally:
        bb.sample, sampling.sample = saved
    models = seen or [v for v in ns.values() if isinstance(v, bb.Model)]
    if not models:
        print(f"{args.script}: no model found (build one with `with bb.Model() as m:` and call bb.sample(m), "
              "or keep it in a global variable)", file=sys.stderr)
        return 1
    for m in models:
        print(m.explain())
        print()
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="brr-bayes", description="Fast NUTS for multilevel survey and election models.")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="fit the bundled multilevel example and print a summary")
    d.add_argument("--n", type=int, default=6000, help="simulated survey respondents")
    d.add_argument("--draws", type=int, default=1000)
    d.add_argument("--tune", type=int, default=1000)
    d.add_argument("--chains", type=int, default=4)
    d.add_argument("--seed", type=int, default=2024)
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(fn=_demo)
    e = sub.add_parser("explain", help="run a model script up to bb.sample and print its compiled program, "
                                       "the rewrites made and the fusions or compressions declined (model.explain())")
    e.add_argument("script", help="a python file that builds a model (it is stopped at its first bb.sample call)")
    e.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    e.set_defaults(fn=_explain)
    i = sub.add_parser("info", help="version, compiler, threads, CUDA")
    i.set_defaults(fn=_info)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
