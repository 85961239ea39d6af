"""Same seed, same draws, bit for bit, across refactors: digests of draws and statistics on a golden set.

The set covers each sampler path: W1 with the diagonal and the dense metric, W3 (BYM2, 1,804
parameters) with Stan's windows, W5 (radon) with the low-rank metric, and W3 with nutpie's warm-up.
A change that alters any draw fails here. When draws are meant to change (a new momentum generator,
say), say so in the commit and re-record with ``python tests/test_golden_draws.py`` (once per vector
math path: also with ``BRR_BAYES_LIBMVEC=0``, the scalar build). The records of CPU families the change
could not be run on lose the changed cases (which then skip there, saying so) rather than keep stale ones.

glibc picks its exp/log variants by CPU at run time, so two CPU families can draw differently from
one build: each path holds one record per CPU family it was recorded on (keyed by the CPU's model
name), and a run must match one of them (a change to the draws matches none). Record a new family by running this
file on it, at a commit whose draws are known to equal the recorded ones (say which in the commit).
"""
import hashlib
import json
import pathlib
import sys
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend
from brr_bayes.workloads import data, models

GOLDEN = pathlib.Path(__file__).resolve().parent / "data" / "golden_draws.json"
KW = dict(draws=100, tune=150, chains=2, seed=20261201, progressbar=False)
CASES = {
    "w1_diag": (lambda: models.eight_schools(data.make_w1()), dict(metric="diag")),
    "w1_dense": (lambda: models.eight_schools(data.make_w1()), dict(metric="dense")),
    "w3_stan": (lambda: models.bym2(data.make_w3()), dict(metric="diag", adapt="stan")),
    "w5_low_rank": (lambda: models.radon(data.make_w5()), dict(metric="low_rank")),
    "w3_nutpie": (lambda: models.bym2(data.make_w3()), dict(metric="diag", adapt="nutpie")),
}


def digest(case):
    build, kw = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(build(), **KW, **kw)
    h = hashlib.sha256(np.ascontiguousarray(res.unconstrained).tobytes())
    for k in sorted(res.sample_stats):
        h.update(np.ascontiguousarray(res.sample_stats[k]).tobytes())
    return {"sha256": h.hexdigest(), "mean": float(np.mean(res.unconstrained)),
            "grad_evals": [int(g) for g in res.grad_evals]}


def _path():
    return _backend.core().build_info["vector_math"]


def _cpu():
    """The CPU family: its model name without the per-part suffix (an 'AMD EPYC 7B13' is 'AMD EPYC')."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                words = line.split(":", 1)[1].split()
                return " ".join(w for w in words[:3] if not any(ch.isdigit() for ch in w)) or "unknown"
    except OSError:
        pass
    return "unknown"


def _records(recorded):
    """{cpu family: cases} for this build's path (the first recording, before families, is 'default')."""
    entry = recorded.get(_path(), {})
    return entry if all(k not in CASES for k in entry) else {"default": entry}


@pytest.mark.parametrize("case", sorted(CASES))
def test_draws_equal_the_recorded_ones(case):
    records = _records(json.loads(GOLDEN.read_text()))
    assert records, f"no golden draws recorded for vector math path {_path()!r}: run this file"
    mine = records.get(_cpu(), records.get("default", {}))
    if case not in mine:   # dropped where a change of the draws could not be re-recorded on this family
        pytest.skip(f"no golden draws of {case} for this CPU family ({_cpu()}) on {_path()}: record them by "
                    "running tests/test_golden_draws.py here")
    records = {fam: r for fam, r in records.items() if case in r}
    got = digest(case)
    # the record of a CPU family that draws these digests; none: the draws changed (compared with this
    # family's record, or CI's 'default' one, for a readable message)
    same = [r for r in records.values() if r[case]["sha256"] == got["sha256"]]
    want = (same[0] if same else records.get(_cpu()) or records.get("default") or next(iter(records.values())))[case]
    # the mean and gradient count first: a readable hint of how far a changed run moved
    assert got["grad_evals"] == want["grad_evals"] and got["mean"] == want["mean"], (got, want)
    assert got["sha256"] == want["sha256"]


if __name__ == "__main__":   # re-record the digests of this build's vector math path
    recorded = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    records = _records(recorded)
    records[_cpu()] = {c: digest(c) for c in sorted(CASES)}
    recorded[_path()] = records
    GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"recorded {sorted(CASES)} for {_path()} on {_cpu()} in {GOLDEN}", file=sys.stderr)
