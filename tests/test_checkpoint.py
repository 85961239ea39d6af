"""Checkpoints: a sampling process SIGKILLed in warm-up or mid-sampling resumes from its checkpoint file,
and the joined draws equal an uninterrupted run with the same seed, bit for bit."""
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from helpers import regression

TUNE, DRAWS = 300, 300
KW = dict(draws=DRAWS, tune=TUNE, chains=4, cores=2, seed=21, progressbar=False)
HERE = os.path.dirname(os.path.abspath(__file__))


def build():
    return regression(0)


CHILD = f"""
import sys, warnings
sys.path.insert(0, {HERE!r})
warnings.simplefilter("ignore")
import brr_bayes as bb
from test_checkpoint import build, KW
bb.sample(build(), checkpoint=sys.argv[1], checkpoint_every=25, **KW)
"""


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def full(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(model, **KW)


def _killed_at(path, when):
    """Start a checkpointing run in a child process; SIGKILL it once the checkpoint shows ``when``."""
    # cwd away from the checkout: `python -c` puts the cwd first on sys.path, and the source tree's
    # brr_bayes has no built _core when the package is installed (as in CI)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=path.parent)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and child.poll() is None:
            if path.exists():
                try:
                    its = [s["iteration"] if s else 0 for s in bb.Result.load(path).sampler_states]
                except (bb.ResultFileError, OSError):
                    its = None   # replaced while being read: read the next one
                if its is not None and when(its):
                    child.send_signal(signal.SIGKILL)
                    child.wait()
                    return its
            time.sleep(0.02)
        pytest.fail(f"the child ended (rc={child.poll()}) before its checkpoint reached the phase")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("phase,when", [
    ("warmup", lambda its: 0 < max(its) and max(its) < TUNE - 50),
    ("sampling", lambda its: any(TUNE + 25 <= i < TUNE + DRAWS - 50 for i in its)),
])
def test_sigkilled_run_resumes_from_its_checkpoint_exactly(model, full, tmp_path, phase, when):
    path = tmp_path / "run.nc"
    _killed_at(path, when)
    saved = bb.Result.load(path)        # whatever the kill interrupted, the file is a whole checkpoint
    assert saved.chain_draws != [DRAWS] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rest = bb.sample(model, resume=str(path), progressbar=False)
    joined = bb.concat(saved, rest)
    np.testing.assert_array_equal(joined.unconstrained, full.unconstrained)
    for k in full.sample_stats:
        np.testing.assert_array_equal(joined.sample_stats[k], full.sample_stats[k], err_msg=k)


def test_checkpointed_run_equals_plain_run_and_the_file_holds_it(model, full, tmp_path):
    path = tmp_path / "run.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(model, checkpoint=path, checkpoint_seconds=0.2, **KW)
    np.testing.assert_array_equal(res.unconstrained, full.unconstrained)
    np.testing.assert_array_equal(bb.Result.load(path).unconstrained, full.unconstrained)
    assert not any(p.name.startswith("run.nc.tmp") for p in tmp_path.iterdir())   # no temporary left behind


def test_resumed_checkpoint_file_keeps_the_whole_run(model, full, tmp_path):
    first, path = tmp_path / "first.nc", tmp_path / "run.nc"
    kw = dict(KW, draws=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = bb.sample(model, checkpoint=first, checkpoint_every=150, **kw)
        more = bb.sample(model, resume=first, draws=DRAWS - 100, checkpoint=path, checkpoint_every=150,
                         progressbar=False)
    assert more.chain_draws == [DRAWS - 100] * 4
    np.testing.assert_array_equal(bb.concat(a, more).unconstrained, full.unconstrained)
    np.testing.assert_array_equal(bb.Result.load(path).unconstrained, full.unconstrained)


@pytest.mark.parametrize("kw,exc,match", [
    (dict(checkpoint_every=10), ValueError, r"checkpoint_every/checkpoint_seconds need checkpoint="),
    (dict(checkpoint="/nonexistent/dir/run.nc"), ValueError, r"checkpoint: the folder /nonexistent/dir does not exist"),
    (dict(checkpoint="run.nc", checkpoint_every=0), ValueError, r"checkpoint_every must be a positive number"),
    (dict(checkpoint="run.nc", checkpoint_seconds=-1), ValueError, r"checkpoint_seconds must be a positive number"),
    (dict(checkpoint="run.nc", keep_warmup=True), ValueError, r"keep_warmup=True is not kept across checkpoints"),
])
def test_bad_checkpoint_arguments(model, kw, exc, match):
    with pytest.raises(exc, match=match):
        bb.sample(model, draws=10, tune=10, chains=1, progressbar=False, **kw)
