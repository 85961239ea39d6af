"""Checkpoints: a sampling process SIGKILLed in warm-up or mid-sampling resumes from its checkpoint file,
and the joined draws equal an uninterrupted run with the same seed, bit for bit; checkpoints are appended
while the chains run (constant cost each, no stop), a file of another run is not replaced, and a record
cut off by a kill is dropped."""
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
    assert saved.chain_draws != [DRAWS] * 4 and saved.partial     # an unfinished run says so
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


def test_a_file_of_another_run_is_not_replaced_unless_asked(model, full, tmp_path):
    path = tmp_path / "run.nc"
    kw = dict(KW, draws=20, tune=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bb.sample(model, checkpoint=path, checkpoint_every=10, **kw)
        before = path.read_bytes()
        # re-running a crashed script without resume= must not destroy its checkpoint
        with pytest.raises(FileExistsError, match=r"already holds a checkpoint of another run; continue that run with "
                                                  r"resume=.*pass overwrite=True"):
            bb.sample(model, checkpoint=path, checkpoint_every=10, **kw)
        assert path.read_bytes() == before
        (tmp_path / "notes.txt").write_text("mine")
        with pytest.raises(FileExistsError, match="already holds a file of another run"):
            bb.sample(model, checkpoint=tmp_path / "notes.txt", **kw)
        again = bb.sample(model, checkpoint=path, checkpoint_every=10, overwrite=True, **dict(kw, seed=5))
    np.testing.assert_array_equal(bb.Result.load(path).unconstrained, again.unconstrained)
    with pytest.raises(ValueError, match="overwrite=True replaces the file at checkpoint="):
        bb.sample(model, overwrite=True, **kw)


def test_checkpoints_append_records_of_constant_cost_while_the_chains_run(model, full, tmp_path, monkeypatch):
    from brr_bayes.infer import checkpoint_file
    path = tmp_path / "run.nc"
    sizes, loads = [], []
    record, append = checkpoint_file.chain_record, checkpoint_file.append

    def spy_record(chain, rows, *a):
        out = record(chain, rows, *a)
        sizes.append((len(rows["draws"]), len(out)))
        return out

    def spy_append(p, records, synced_at=None):
        out = append(p, records, synced_at)
        loads.append(bb.Result.load(p))        # what a reader sees after each checkpoint
        return out
    monkeypatch.setattr(checkpoint_file, "chain_record", spy_record)
    monkeypatch.setattr(checkpoint_file, "append", spy_append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = bb.sample(model, checkpoint=path, checkpoint_every=50, **KW)
    # warm-up checkpoints hold no draws yet: no ArviZ "More chains than draws" warning leaks from them
    assert not [w for w in caught if "chains than draws" in str(w.message)], [str(w.message) for w in caught]
    # a record a chain every 50 iterations, the last with the final state: 12 a chain
    assert len(sizes) == 4 * (TUNE + DRAWS) // 50
    # each record holds only its own 50 draws: the last costs what the first kept one did, not the run so far
    kept = [n for rows, n in sizes if rows == 50]
    assert len(kept) == 4 * DRAWS // 50 and max(kept) <= 1.05 * min(kept)
    assert sum(n for _, n in sizes) < 1.05 * os.path.getsize(path)
    assert all(r.partial for r in loads[:-1]) and not loads[-1].partial   # a run still going says so
    assert any(0 < min(r.chain_draws) < DRAWS for r in loads)
    # the chains never stopped for a checkpoint: the run is the plain one, bit for bit, and so is the file
    np.testing.assert_array_equal(res.unconstrained, full.unconstrained)
    np.testing.assert_array_equal(loads[-1].unconstrained, full.unconstrained)
    for k in full.sample_stats:
        np.testing.assert_array_equal(loads[-1].sample_stats[k], full.sample_stats[k], err_msg=k)
    assert loads[-1].grad_evals == res.grad_evals


def test_a_cut_off_last_record_is_dropped_and_the_run_goes_on_after_the_one_before(model, full, tmp_path):
    path = tmp_path / "run.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bb.sample(model, checkpoint=path, checkpoint_every=100, **dict(KW, draws=200))
    data = path.read_bytes()
    path.write_bytes(data[:-1000])       # killed while appending its last record
    with pytest.warns(RuntimeWarning, match=r"record 21 of .* is cut off or damaged .* resumes from the 20 record"):
        saved = bb.Result.load(path)
    assert saved.partial and sorted(saved.chain_draws) == [100, 200, 200, 200]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rest = bb.sample(model, resume=str(path), checkpoint=path, checkpoint_every=100, progressbar=False)
        whole = bb.Result.load(path)
    assert not whole.partial and whole.chain_draws == [200] * 4
    np.testing.assert_array_equal(bb.concat(saved, rest).unconstrained, full.unconstrained[:, :200])
    np.testing.assert_array_equal(whole.unconstrained, full.unconstrained[:, :200])
    path.write_bytes(data[:200] + b"x" + data[201:])       # damaged inside its first record
    with pytest.raises(bb.ResultFileError, match="record 1 of .* is corrupted"):
        bb.Result.load(path)


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


FIXTURES = os.path.join(HERE, "data", "checkpoints")   # written by 881d5c4 (make_fixture.py there)
OLD_KW = dict(tune=150, chains=2, seed=20261207, progressbar=False)


@pytest.fixture(scope="module")
def w1_uninterrupted():
    from workloads import data, models
    model = models.eight_schools(data.make_w1())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model, bb.sample(model, draws=300, **OLD_KW)


@pytest.mark.parametrize("name", ["w1_881d5c4.nc", "w1_881d5c4_killed.nc"])
def test_a_checkpoint_written_before_appending_resumes_bit_for_bit(w1_uninterrupted, tmp_path, name):
    # the whole-run netCDF files of the previous design: one finished (100 draws), one killed in warm-up;
    # resumed here to 300 draws, into a checkpoint of today's kind, they are the uninterrupted run
    import shutil
    model, full = w1_uninterrupted
    path = tmp_path / name
    shutil.copy(os.path.join(FIXTURES, name), path)
    saved = bb.Result.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if saved.chain_draws == [100, 100]:
            rest = bb.sample(model, resume=str(path), draws=200, checkpoint=path, progressbar=False)
        else:
            rest = bb.sample(model, resume=str(path), checkpoint=path, progressbar=False)       # finish: 100 draws
            more = bb.sample(model, resume=bb.concat(saved, rest), draws=200, progressbar=False)
            rest = bb.concat(rest, more)
    joined = bb.concat(saved, rest)
    np.testing.assert_array_equal(joined.unconstrained, full.unconstrained)
    for k in full.sample_stats:
        np.testing.assert_array_equal(joined.sample_stats[k], full.sample_stats[k], err_msg=k)
    whole = bb.Result.load(path)     # now a checkpoint of today's kind holding the old draws and the new
    assert whole.chain_draws[0] >= 100
    np.testing.assert_array_equal(whole.unconstrained, full.unconstrained[:, :whole.chain_draws[0]])


CONTINUATIONS = os.path.join(FIXTURES, "continuations_bad20c6.json")   # make_fixture_bad20c6.py


@pytest.mark.parametrize("name", ["nuts", "chees", "meads"])
def test_a_checkpoint_written_before_the_samplers_shared_one_leapfrog_resumes(tmp_path, name):
    # W1 runs of 100 draws checkpointed by bad20c6, and what that commit drew resuming them. NUTS's
    # arithmetic did not change: its continuation is bit for bit the same. ChEES and MEADS now step
    # through the one Hamiltonian, whose leapfrog multiplies eps * (M^-1 p) where theirs multiplied
    # (eps M^-1) p: their saved adaptation (step size, metric, trajectory length, momenta, RNG) is
    # restored exactly and their first five resumed draws differ by that rounding only.
    import json
    import shutil
    from workloads import data, models
    want = json.load(open(CONTINUATIONS))[name]
    path = tmp_path / f"{name}.nc"
    shutil.copy(os.path.join(FIXTURES, f"{name}_bad20c6.nc"), path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        more = bb.sample(models.eight_schools(data.make_w1()), resume=str(path), draws=20, progressbar=False)
    got = np.asarray(more.unconstrained)[:, :5]
    np.testing.assert_array_equal(np.asarray(more.sample_stats["step_size"])[:, :5], want["step_size"])
    if name == "nuts":
        np.testing.assert_array_equal(got, want["unconstrained"])
    else:
        np.testing.assert_allclose(got, want["unconstrained"], rtol=0, atol=1e-12)   # measured: <= 4e-15
        assert not np.array_equal(got, want["unconstrained"])   # the rounding did change: this test is not vacuous
