"""Same seed, same draws, bit for bit, across refactors and machines: digests of draws and statistics on a golden set.

The set covers each sampler path: W1 with the diagonal and the dense metric, W3 (BYM2, 1,804
parameters) with Stan's windows, W5 (radon) with the low-rank metric, W3 with nutpie's warm-up, and the
ensembles: ChEES on W5 and MEADS on W1.
A change that alters any draw fails here. When draws are meant to change (a new momentum generator,
say), say so in the commit and re-record with ``python tests/test_golden_draws.py`` (once per vector
math path, also with ``BRR_BAYES_LIBMVEC=0``, the scalar build; and each once more with
``GLIBC_TUNABLES`` set to ``SSE2_TUNABLES`` below, for glibc's other variant).

What may legitimately set the bits is named, never a CPU: the build's vector math path (libmvec's AVX2
variants or scalar libm) and glibc's choice of its scalar exp/log variants (the FMA ones where the CPU has
FMA and AVX2, the SSE2 ones elsewhere). One record per (path, glibc variant) serves every machine; a
combination not recorded skips, saying how to record it. Nothing else may: BLAS and LAPACK, whose
kernels OpenBLAS picks per CPU, are kept out of every computation that reaches the draws (brr_bayes.portable),
and test_draws_do_not_depend_on_blas_or_numpy_kernels re-runs the set with other kernels to prove it.
"""
import functools
import hashlib
import json
import os
import pathlib
import sys
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend
from workloads import data, models

import other_machine

GOLDEN = pathlib.Path(__file__).resolve().parent / "data" / "golden_draws.json"
KW = dict(draws=100, tune=150, chains=2, seed=20261201, progressbar=False)
CASES = {
    "w1_diag": (lambda: models.eight_schools(data.make_w1()), dict(metric="diag")),
    "w1_dense": (lambda: models.eight_schools(data.make_w1()), dict(metric="dense")),
    "w3_stan": (lambda: models.bym2(data.make_w3()), dict(metric="diag", adapt="stan")),
    "w5_low_rank": (lambda: models.radon(data.make_w5()), dict(metric="low_rank")),
    "w3_nutpie": (lambda: models.bym2(data.make_w3()), dict(metric="diag", adapt="nutpie")),
    "w5_chees": (lambda: models.radon(data.make_w5()), dict(sampler="chees", chains=8)),
    "w1_meads": (lambda: models.eight_schools(data.make_w1()), dict(sampler="meads", chains=8)),
}


@functools.lru_cache(maxsize=None)
def digest(case):
    build, kw = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(build(), **{**KW, **kw})
    h = hashlib.sha256(np.ascontiguousarray(res.unconstrained).tobytes())
    for k in sorted(res.sample_stats):
        if k == "divergence_reason":  # recorded since the records were made: checked against diverging instead
            assert np.array_equal(res.sample_stats[k] != 0, res.sample_stats["diverging"])
            continue
        h.update(np.ascontiguousarray(res.sample_stats[k]).tobytes())
    return {"sha256": h.hexdigest(), "mean": float(np.mean(res.unconstrained)),
            "grad_evals": [int(g) for g in res.grad_evals]}


def _path():
    return _backend.core().build_info["vector_math"]


SSE2_TUNABLES = "glibc.cpu.hwcaps=-AVX2_Usable,-FMA_Usable,-AVX2,-FMA"   # glibc as on a CPU without FMA/AVX2


def libm_variant():
    """glibc's scalar exp/log variant in this process: 'fma' where FMA and AVX2 are usable, else 'sse2'
    (sysdeps/x86_64/fpu/multiarch: the ifunc picks by exactly these two features; GLIBC_TUNABLES can
    mask them, as SSE2_TUNABLES does to draw what a CPU without them draws)."""
    try:
        flags = next(set(line.split(":", 1)[1].split()) for line in
                     pathlib.Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    masked = {t[1:].lower().replace("_usable", "") for part in os.environ.get("GLIBC_TUNABLES", "").split(":")
              if part.startswith("glibc.cpu.hwcaps=") for t in part.split("=", 1)[1].split(",") if t.startswith("-")}
    return "fma" if {"fma", "avx2"} <= flags - masked else "sse2"


def _record():
    """The recorded digests for this build's vector math path and this CPU's glibc variant, or None."""
    return json.loads(GOLDEN.read_text()).get(_path(), {}).get(libm_variant())


@pytest.mark.parametrize("case", sorted(CASES))
def test_draws_equal_the_recorded_ones(case):
    mine = _record()
    if not mine or case not in mine:
        pytest.skip(f"no golden draws of {case} for vector math {_path()!r} with glibc's {libm_variant()!r} "
                    "exp/log: record them by running tests/test_golden_draws.py on such a machine")
    got, want = digest(case), mine[case]
    # the mean and gradient count first: a readable hint of how far a changed run moved
    assert got["grad_evals"] == want["grad_evals"] and got["mean"] == want["mean"], (got, want)
    assert got["sha256"] == want["sha256"]


def test_draws_do_not_depend_on_blas_or_numpy_kernels():
    # every golden case again in a process whose OpenBLAS and numpy run other kernels, as another
    # machine's would: the same bits, so one record serves every machine
    env, what = other_machine.other_kernels()
    if env is None:
        pytest.skip(what)
    code = ("import test_golden_draws as t\n"
            "print(json.dumps({c: t.digest(c)['sha256'] for c in sorted(t.CASES)}))")
    theirs, blas = other_machine.run_elsewhere(code, env)
    assert blas == env["OPENBLAS_CORETYPE"], f"the child ran {blas} kernels, not {env['OPENBLAS_CORETYPE']}"
    mine = {c: digest(c)["sha256"] for c in sorted(CASES)}
    assert theirs == mine, f"draws differ under {what}: {theirs} vs {mine}"


def test_the_sse2_record_is_what_glibc_without_fma_draws():
    # a CPU without FMA and AVX2 gets glibc's SSE2 exp/log: the same cases in a process whose glibc is told
    # those features are missing must draw that record (so it is checked here, on an FMA machine, too)
    want = json.loads(GOLDEN.read_text()).get(_path(), {}).get("sse2")
    if not want or libm_variant() != "fma":
        pytest.skip("no sse2 record for this build's vector math path, or glibc here already is the SSE2 one")
    code = ("import test_golden_draws as t\n"
            "print(json.dumps([t.libm_variant(), {c: t.digest(c)['sha256'] for c in sorted(t.CASES)}]))")
    (variant, theirs), _ = other_machine.run_elsewhere(code, dict(os.environ, GLIBC_TUNABLES=SSE2_TUNABLES))
    assert variant == "sse2"
    assert theirs == {c: want[c]["sha256"] for c in sorted(CASES)}


if __name__ == "__main__":   # re-record the digests of this build's vector math path and glibc variant
    recorded = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    recorded.setdefault(_path(), {})[libm_variant()] = {c: digest(c) for c in sorted(CASES)}
    GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"recorded {sorted(CASES)} for {_path()} with glibc's {libm_variant()} exp/log in {GOLDEN} (for the other "
          f"variant on an FMA machine: GLIBC_TUNABLES={SSE2_TUNABLES})", file=sys.stderr)
