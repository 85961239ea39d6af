"""Sampling on a Dask cluster: the chains of one fit (``bb.sample(..., client=)``) or many fits
(``bb.fit_many``, fit_many.py) run as tasks.

What ships to a worker is the compiled program (a ``Program`` pickles through its versioned,
checksummed serialisation), the sampler settings and each chain's start: no Python model. A task
samples in segments of ``checkpoint_every`` iterations and after each writes its draws and complete
sampler states to a checkpoint file in a folder every worker can reach. When a worker is lost, Dask
runs its tasks again elsewhere and each resumes from its file, so the draws are the ones an
uninterrupted run on one machine makes, bit for bit. Results are assembled on the client, where the
model is.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time

import numpy as np

from .. import _backend
from . import verified_file
from .checkpoint import next_segment
from .plan import core_config
from .result import Result

DEFAULT_EVERY = 100
_NOT_IN_KEY = ("threads", "row_threads")   # where a chain runs does not change its draws


def _trace_keys():
    """What a chain's trace holds: its draws and the C++ trace's statistics (_core.stat_names())."""
    return ("draws",) + tuple(_backend.core().stat_names())


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
            t = {k: np.zeros(0) for k in _trace_keys()}
            t["draws"] = np.zeros((0, dim))
            t["grad_evals"] = 0
            return t
        return cls([blank() for _ in range(chains)], [None] * chains)

    def then(self, later):
        """These chains' draws followed by ``later``'s (the next segment of the same chains)."""
        traces = []
        for a, b in zip(self.traces, later.traces):
            t = {k: np.concatenate([a[k], b[k]]) for k in _trace_keys()}
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


def task_folder(checkpoint_dir):
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


def wait_for_tasks(client, futures, progressbar, desc):
    """Gather the futures' results in order, with a bar over finished tasks; Ctrl-C cancels them."""
    from distributed import wait
    bar = None
    if progressbar:

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
    check_client(client)
    every = check_every(every)
    folder, made = task_folder(checkpoint_dir)
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
        records = wait_for_tasks(client, futures, progressbar, "Sampling (chains)")
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


def fit_seeds(seed, n):
    """The seed of each of ``n`` fits under one root seed: independent streams, the same on any cluster."""
    return [int(s.generate_state(1, np.uint64)[0]) for s in np.random.SeedSequence(seed).spawn(n)]
