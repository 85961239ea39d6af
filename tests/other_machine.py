"""Run Python code in a subprocess that picks other CPU kernels than this one, as another machine would.

OpenBLAS picks its kernels by CPU when it loads (OPENBLAS_CORETYPE overrides the pick) and numpy picks
its SIMD loops by CPU (NPY_DISABLE_CPU_FEATURES turns the wider ones off). A result computed in the child
must equal the parent's bit for bit if nothing machine-dependent reaches it. Only kernels this CPU can run
are chosen (an older kernel family than the parent's, never a newer one), and only the child's
environment is changed.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy  # noqa: F401  (loads OpenBLAS, so that threadpoolctl sees it)
from threadpoolctl import threadpool_info

TESTS = pathlib.Path(__file__).resolve().parent
BENCHMARKS = TESTS.parent / "benchmarks"   # the reference workloads
# OpenBLAS kernel families, newest first, with the CPU flags each needs (x86-64)
_CORETYPES = [("SkylakeX", {"avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd"}),
              ("Haswell", {"avx2", "fma"}), ("Sandybridge", {"avx"}), ("Nehalem", {"sse4_2"})]
_FAMILY = {"Cooperlake": "SkylakeX", "SapphireRapids": "SkylakeX", "SkylakeX": "SkylakeX", "Zen": "Haswell",
           "Haswell": "Haswell", "Sandybridge": "Sandybridge", "Nehalem": "Nehalem"}


def _cpu_flags():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _numpy_avx512_targets():
    """The AVX-512 targets this numpy dispatches to on this CPU (names differ between numpy versions; only
    these can be disabled without numpy refusing to import)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:   # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [t for t in __cpu_dispatch__ if ("AVX512" in t or t == "X86_V4") and __cpu_features__.get(t)]


def blas_architecture():
    """The kernel family OpenBLAS picked in this process ('SkylakeX', 'Haswell', 'Zen', ...), or None."""
    archs = [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
    return archs[0] if archs else None


def other_kernels():
    """(environment for the child, what differs) or (None, why not) where this CPU runs no other kernels."""
    mine = blas_architecture()
    if mine is None:
        return None, "numpy does not use OpenBLAS here"
    flags = _cpu_flags()
    names = [n for n, _ in _CORETYPES]
    family = _FAMILY.get(mine)
    older = _CORETYPES[names.index(family) + 1:] if family in names else _CORETYPES
    for name, needs in older:
        if needs <= flags and name != mine:
            env = dict(os.environ, OPENBLAS_CORETYPE=name)
            wide = _numpy_avx512_targets()
            if wide:   # numpy's widest SIMD loops off as well, as on a CPU without AVX-512
                env["NPY_DISABLE_CPU_FEATURES"] = " ".join(wide)
            return env, f"OpenBLAS {name} kernels (this process: {mine}), numpy without {wide or 'no'} loops"
    return None, f"this CPU ({mine}) runs no older OpenBLAS kernel family"


def run_elsewhere(code, env):
    """Run ``code`` (which prints one JSON value last) in a child with ``env``; return (value, child's BLAS)."""
    prog = ("import json, sys; sys.path[:0] = [%r, %r]\n" % (str(TESTS), str(BENCHMARKS)) + code +
            "\nfrom other_machine import blas_architecture; print(json.dumps(blas_architecture()))")
    # cwd away from the checkout: `python -c` puts the cwd first on sys.path, and the source tree's brr_bayes
    # has no built _core when the package is installed (as in CI)
    out = subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True, text=True, timeout=600,
                         cwd=TESTS)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    return json.loads(lines[-2]), json.loads(lines[-1])
