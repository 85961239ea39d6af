"""Sampling on a Dask cluster: the chains of one fit (``bb.sample(..., client=)``) or many fits
(``bb.fit_many``) run as tasks.

What ships to a worker is the compiled program (a ``Program`` pickles through its versioned,
checksummed serialisation), the sampler settings and each chain's start: no Python model. A task
samples in segments of ``checkpoint_every`` iterations and after each writes its draws and complete
sampler states to a checkpoint file in a folder every worker can reach. When a worker is lost, Dask
runs its tasks again elsewhere and each resumes from its file, so the draws are the ones an
uninterrupted run on one machine makes, bit for bit. Results are assembled on the client, where the
model is.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time

import numpy as np

from .. import _backend
from . import verified_file

DEFAULT_EVERY = 100
_TRACE_KEYS = ("draws", "step_size", "energy", "energy_error", "acceptance_rate", "lp", "tree_depth", "n_steps",
               "diverging", "warmup")
_NOT_IN_KEY = ("threads", "row_threads")   # where a chain runs does not change its draws


class ChainRecord:
    """Per-chain traces and final sampler states, read like a finished C++ run by ``Result.from_run``.

    Plain numpy arrays and dicts, so it pickles to and from workers and into checkpoint files.
    """

    def __init__(self, traces, states, resumed_from=None, seconds=0.0):
        self.traces = list(traces)
        self.states = list(states)
        self.seconds = float(seconds)    # sampling time of these chains, summed over segments
        # per chain, the iteration a rerun task found in its checkpoint (0: it started afresh)
        self.resumed_from = list(resumed_from) if resumed_from is not None else [0] * len(self.traces)

    def trace(self, c, take=False):
        return self.traces[c]   # the record keeps its arrays (take, as a C++ run has it, changes nothing)

    def state(self, c):
        return self.states[c]

    @classmethod
    def capture(cls, run, chains, previous_states=(), seconds=0.0):
        """Copy a joined C++ run's traces and states (a chain that did not run keeps its previous state)."""
        states = [run.state(c) for c in range(chains)]
        states = [s if s is not None or c >= len(previous_states) else previous_states[c] for c, s in enumerate(states)]
        return cls([dict(run.trace(c)) for c in range(chains)], states, seconds=seconds)

    @classmethod
    def empty(cls, chains, dim):
        """No draws yet: what a chain whose task never wrote a checkpoint has."""
        def blank():
            t = {k: np.zeros(0) for k in _TRACE_KEYS}
            t["draws"] = np.zeros((0, dim))
            t["grad_evals"] = 0
            return t
        return cls([blank() for _ in range(chains)], [None] * chains)

    def then(self, later):
        """These chains' draws followed by ``later``'s (the next segment of the same chains)."""
        traces = []
        for a, b in zip(self.traces, later.traces):
            t = {k: np.concatenate([a[k], b[k]]) for k in _TRACE_KEYS}
            t["grad_evals"] = int(a["grad_evals"]) + int(b["grad_evals"])
            traces.append(t)
        states = [s if s is not None else p for s, p in zip(later.states, self.states)]
        return ChainRecord(traces, states, self.resumed_from, self.seconds + later.seconds)

    @staticmethod
    def side_by_side(records):
        """One record of every chain of ``records``, in order."""
        return ChainRecord([t for r in records for t in r.traces], [s for r in records for s in r.states],
                           [i for r in records for i in r.resumed_from], max((r.seconds for r in records), default=0))


def run_key(config):
    """A digest of everything that decides a run's draws: a checkpoint is resumed only under the same key."""
    kept = {k: v for k, v in config.items() if k not in _NOT_IN_KEY}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def _save(path, key, record):
    payload = pickle.dumps({"key": key, "record": record}, protocol=pickle.HIGHEST_PROTOCOL)

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(payload)
    verified_file.write_verified(path, write)


def read_checkpoint(path):
    """(run key, ChainRecord) of a task's checkpoint file; the checksum is checked before unpickling."""
    saved = pickle.loads(verified_file.verify(path, reader="cluster checkpoint", writer="a brr_bayes task"))
    return saved.get("key"), saved["record"]


def load_checkpoint(path, key):
    """The ChainRecord a task saved at ``path`` for the run ``key``; ValueError if it is another run's."""
    saved_key, record = read_checkpoint(path)
    if saved_key != key:
        raise ValueError(f"checkpoint {path} belongs to another run (other model, data, seed or settings); remove it "
                         "or pass another checkpoint_dir")
    return record


def _done(states, totals):
    return bool(states) and all(s is not None and s["iteration"] >= t for s, t in zip(states, totals))


def sample_task(program, config, inits, states, path, every):
    """One task: sample ``config``'s chains to their totals in segments, checkpointing to ``path`` after each.

    If ``path`` already holds this run's checkpoint (the task is a rerun after a lost worker, or the
    client was restarted), the chains continue from it. Returns the ChainRecord of the whole run.
    """
    from .checkpoint import next_segment
    from .sampling import core_config
    key = run_key(config)
    n = config["chains"]
    totals = list(config["totals"])
    record, resumed = None, [0] * n
    if path is not None and os.path.exists(path):
        record = load_checkpoint(path, key)
        states = record.states
        resumed = [int(s["iteration"]) if s else 0 for s in states]
    states = list(states)
    while not _done(states, totals):
        seg, seg_inits = next_segment(config, inits, states, totals, every)
        t0 = time.perf_counter()
        run = _backend.core().start_sampling(program, core_config(seg), seg_inits, states)
        run.join()
        secs = time.perf_counter() - t0
        errors = [(c, run.error(c)) for c in range(n) if run.error(c)]
        if errors:
            raise RuntimeError("; ".join(f"chain {config.get('chain_ids', range(n))[c]}: {e}" for c, e in errors))
        part = ChainRecord.capture(run, n, previous_states=states, seconds=secs)
        record = part if record is None else record.then(part)
        states = record.states
        if path is not None:
            _save(path, key, record)
    if record is None:    # nothing to do: totals already reached by the given states
        record = ChainRecord.empty(n, program.dim)
        record.states = states
    record.resumed_from = resumed
    return record


def _folder(checkpoint_dir):
    """(folder, made_here): the user's folder, checked, or a fresh temporary one removed afterwards."""
    if checkpoint_dir is None:
        return tempfile.mkdtemp(prefix="brr_bayes-cluster-"), True
    if not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise TypeError(f"checkpoint_dir must be a folder path, got {type(checkpoint_dir).__name__}")
    if not os.path.isdir(checkpoint_dir):
        raise ValueError(f"checkpoint_dir: {checkpoint_dir} is not a folder; create it (it must be reachable by every "
                         "worker) or leave checkpoint_dir out")
    return os.fspath(checkpoint_dir), False


def check_every(every):
    if every is None:
        return DEFAULT_EVERY
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"checkpoint_every must be a positive number of iterations, got {every!r}")
    return int(every)


def check_client(client):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - exercised only without dask installed
        raise ImportError("client= needs dask.distributed: pip install 'brr_bayes[dask]'") from None
    if not isinstance(client, Client):
        raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    return client


def _wait(client, futures, progressbar, desc):
    """Gather the futures' results in order, with a bar over finished tasks; Ctrl-C cancels them."""
    from distributed import wait
    bar = None
    if progressbar:
        import sys

        from tqdm.auto import tqdm
        bar = tqdm(total=len(futures), desc=desc, unit="task", file=sys.stderr, leave=True)
    try:
        while True:
            try:
                wait(futures, timeout=0.5)
                break
            except TimeoutError:
                pass
            finally:
                if bar is not None:
                    bar.update(sum(f.done() for f in futures) - bar.n)
        return client.gather(futures)
    except KeyboardInterrupt:
        client.cancel(futures)
        raise
    finally:
        if bar is not None:
            bar.close()


def sample_on_client(model, config, inits, states, client, checkpoint_dir, every, progressbar):
    """bb.sample with client=: one task per chain; returns the Result as bb.sample on threads would."""
    from .result import Result
    check_client(client)
    every = check_every(every)
    folder, made = _folder(checkpoint_dir)
    n = config["chains"]
    totals = list(config.get("totals") or [config["tune"] + config["draws"]] * n)
    program = model.compiled.program
    # chain c alone: its own RNG stream, total and start (config's other settings are the run's)
    cfgs = [dict(config, chains=1, threads=1, chain_ids=[c], totals=[totals[c]],
                 inits=[config["inits"][c]] if config.get("inits") else None) for c in range(n)]
    paths = [os.path.join(folder, f"{config['fingerprint'][:12]}-seed{config['seed']}-chain{c}.ckpt") for c in range(n)]
    futures = [client.submit(sample_task, program, cfgs[c], [inits[c]], [states[c]] if states else [], paths[c], every,
                             pure=False) for c in range(n)]
    t0 = time.perf_counter()
    partial = False
    try:
        records = _wait(client, futures, progressbar, "Sampling (chains)")
    except KeyboardInterrupt:
        # every chain keeps what its last checkpoint holds; the files stay (the Result holds their states too)
        records = [_partial(paths[c], cfgs[c], model.dim, states[c] if states else None) for c in range(n)]
        partial, made = True, False
    finally:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
    return Result.from_run(ChainRecord.side_by_side(records), config, model=model,
                           seconds=time.perf_counter() - t0, partial=partial, previous_states=states)


def _partial(path, config, dim, state):
    if os.path.exists(path):
        try:
            return load_checkpoint(path, run_key(config))
        except (ValueError, pickle.UnpicklingError):
            pass
    rec = ChainRecord.empty(1, dim)
    rec.states = [state]
    return rec


@contextlib.contextmanager
def _naming_dataset(i, doing):
    """Re-raise an error with the dataset it came from named first (of 50 states, which one failed)."""
    try:
        yield
    except Exception as err:
        msg = f"fit_many: {doing} datasets[{i}] failed: {type(err).__name__}: {err}"
        try:
            named = type(err)(msg)
        except Exception:      # an exception type that does not take one message
            named = RuntimeError(msg)
        raise named from err


def fit_seeds(seed, n):
    """The seed of each of ``n`` fits under one root seed: independent streams, the same on any cluster."""
    return [int(s.generate_state(1, np.uint64)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def fit_many(build, datasets, *, client=None, seed=None, checkpoint_dir=None, checkpoint_every=None,
             progressbar=True, **sample_kwargs):
    """Fit one model per dataset: ``build(data) -> bb.Model``, sampled as ``bb.sample`` would, on a cluster.

    Models are built and compiled here (the client); each fit then runs as one Dask task on a worker
    (its chains one after the other, or on ``cores`` threads), checkpointing into ``checkpoint_dir``
    every ``checkpoint_every`` iterations (default 100). A worker lost mid-run costs only the work since
    its last checkpoint: Dask reruns the task elsewhere and it resumes from the file. Fit ``i`` uses
    seed ``fit_seeds(seed, n)[i]`` (``result.seed``), so ``bb.sample(build(datasets[i]),
    seed=results[i].seed)`` on one machine gives the same draws, bit for bit. Without ``client`` the fits
    run here, one after another.

    Args:
        build: a function of one dataset returning a ``bb.Model``.
        datasets: an iterable of whatever ``build`` takes (data frames, dicts of arrays, ...).
        client: a ``dask.distributed.Client``; None runs the fits in this process.
        seed: the root seed (None: a fresh one).
        checkpoint_dir: a folder every worker can reach (default: a temporary folder, removed after the
            fits finish; fine for a LocalCluster). With a folder of your own the checkpoints stay, and
            calling fit_many again with the same arguments after the client itself died resumes them.
        sample_kwargs: draws, tune, chains, target_accept, metric, ... as for ``bb.sample``.

    Returns:
        A list of ``bb.Result``, one per dataset, in order. ``result.resumed_from_checkpoint`` lists, per
        chain, the iteration a rerun task resumed from (all 0 when no worker was lost).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> def build(y):
        ...     with bb.Model() as m:
        ...         mu = bb.Normal("mu", 0, 10)
        ...         _ = bb.Normal("y", mu, 1, observed=y)
        ...     return m
        >>> data = [np.array([0.5, 1.5]), np.array([4.5, 5.5])]
        >>> fits = bb.fit_many(build, data, draws=200, tune=200, chains=2, seed=1, progressbar=False)
        >>> [round(float(f.posterior["mu"].mean())) for f in fits]
        [1, 5]
    """
    from ..model import Model
    from .result import Result
    from .sampling import fresh_plan, resolve_seed, sample
    for bad in ("resume", "checkpoint", "checkpoint_seconds", "client", "init"):
        if bad in sample_kwargs:
            raise TypeError(f"fit_many does not take {bad}=; checkpoints go to checkpoint_dir=, and each fit starts "
                            "as bb.sample starts a chain")
    if not callable(build):
        raise TypeError(f"fit_many: build must be a function of one dataset returning a bb.Model, got "
                        f"{type(build).__name__}")
    datasets = list(datasets)
    seeds = fit_seeds(resolve_seed(seed), len(datasets))
    models = []
    for i, d in enumerate(datasets):
        with _naming_dataset(i, "build"):
            m = build(d)
        if not isinstance(m, Model):
            raise TypeError(f"fit_many: build(datasets[{i}]) returned {type(m).__name__}, not a bb.Model")
        models.append(m)
    if client is None:
        out = []
        for i, (m, s) in enumerate(zip(models, seeds)):
            with _naming_dataset(i, "sampling the model of"):
                out.append(sample(m, seed=s, progressbar=False, **sample_kwargs))
        for r in out:
            r.resumed_from_checkpoint = [0] * r.chains
        return out
    check_client(client)
    every = check_every(checkpoint_every)
    folder, made = _folder(checkpoint_dir)
    plans, futures = [], []
    for i, (m, s) in enumerate(zip(models, seeds)):
        config, inits = fresh_plan(m, seed=s, **sample_kwargs)
        if sample_kwargs.get("cores") is None:
            config["threads"] = 1     # one task a fit: its chains in turn, the worker's threads run other fits
        config["totals"] = [config["tune"] + config["draws"]] * config["chains"]
        path = os.path.join(folder, f"fit{i:05d}-{m.compiled.fingerprint[:12]}-seed{s}.ckpt")
        plans.append(config)
        futures.append(client.submit(sample_task, m.compiled.program, config, inits, [], path, every, pure=False))
    try:
        records = _wait(client, futures, progressbar, "Fits")
    finally:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
    results = []
    for m, config, rec in zip(models, plans, records):
        res = Result.from_run(rec, config, model=m, seconds=rec.seconds, partial=False)
        res.resumed_from_checkpoint = list(rec.resumed_from)
        results.append(res)
    return results
