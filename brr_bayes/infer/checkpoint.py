"""Checkpointed sampling: the run goes on while its checkpoints are written.

Every ``every`` iterations (or when ``checkpoint_seconds`` have passed) each chain takes a snapshot of its
sampler state at the end of an iteration and goes on; the draws made since its last checkpoint and that
state are appended to the checkpoint file (checkpoint_file.py) while the chains sample. Nothing stops, so
a checkpointed run is the uninterrupted run, draw for draw, and costs it only the writing (stopping every
chain for each checkpoint lined the chains up and restarted them: 1.3-1.7x on W3 and W5 at
checkpoint_every=50). A process killed at any moment leaves its last complete records to resume from;
Ctrl-C writes the draws so far.
"""
from __future__ import annotations

import os
import time
import warnings

import numpy as np

from . import checkpoint_file, runner
from .diagnostics import warn_after_sampling
from .result import Result

DEFAULT_SECONDS = 60.0   # a checkpoint takes milliseconds, and no chain waits for it


def _target(checkpoint, resume, overwrite):
    """How the run is written to ``checkpoint``: 'append' (continuing the run the file holds) or 'start'
    (a new file, holding ``resume``'s draws first if given). A file of another run is never replaced
    silently: re-running a crashed script without resume= would otherwise destroy its checkpoint."""
    path = os.path.abspath(os.fspath(checkpoint))
    source = getattr(resume, "source", None) if resume is not None else None
    if source == path and checkpoint_file.is_checkpoint(path):
        return "append"
    if os.path.exists(path) and source != path and not overwrite:
        what = "a checkpoint" if checkpoint_file.is_checkpoint(path) else "a file"
        raise FileExistsError(f"checkpoint: {path} already holds {what} of another run; continue that run with "
                              f"resume={os.fspath(checkpoint)!r}, pass overwrite=True to replace it, or choose another "
                              "path")
    return "start"


def _check(checkpoint, every, seconds, config):
    if checkpoint is None:
        raise ValueError("checkpoint_every/checkpoint_seconds need checkpoint= (the file to write)")
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a file path, got {type(checkpoint).__name__}")
    folder = os.path.dirname(os.path.abspath(os.fspath(checkpoint)))
    if not os.path.isdir(folder):
        raise ValueError(f"checkpoint: the folder {folder} does not exist; create it or choose another path")
    if every is not None and (isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1):
        raise ValueError(f"checkpoint_every must be a positive number of iterations, got {every!r}")
    if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
        raise ValueError(f"checkpoint_seconds must be a positive number of seconds, got {seconds!r}")
    if config.get("keep_warmup"):
        raise ValueError("keep_warmup=True is not kept across checkpoints yet; leave it out when checkpointing")
    return int(every) if every is not None else None


def next_segment(config, inits, states, totals, every):
    """(config, inits) of the next segment of a run stopped every ``every`` iterations (a cluster task's
    checkpoints): each chain runs up to ``every`` more iterations (None: to its total), and a chain that has
    not started yet starts from its own initial point, whichever segment it is."""
    n = config["chains"]
    starts = [int(s["iteration"]) if s else 0 for s in states] or [0] * n
    seg = dict(config, totals=[t if every is None else min(t, st + every) for st, t in zip(starts, totals)])
    return seg, [x if not states or states[c] is None else None for c, x in enumerate(inits)]


class _Writer:
    """Appends each chain's snapshots, with the rows before them, to the checkpoint file as they come."""

    def __init__(self, model, path, chains, seconds):
        self.model, self.path, self.seconds = model, path, seconds
        self.written = [0] * chains       # rows of each chain already in the file
        self.grads = [0] * chains         # gradient evaluations already counted there
        self.synced = None
        self.last_request = self.last_write = time.monotonic()
        # the constrained values' names and shapes, for a record without rows (a warm-up checkpoint)
        self.no_rows = {k: np.asarray(v)[:0] for k, v in model.compiled.constrain_many(np.zeros((1, model.dim))).items()}

    def _record(self, run, c, rows_to, state, grad_evals):
        rows = run.rows(c, self.written[c], rows_to)
        post = {k: np.asarray(v) for k, v in self.model.compiled.constrain_many(rows["draws"]).items()} \
            if len(rows["draws"]) else self.no_rows
        now = time.monotonic()
        rec = checkpoint_file.chain_record(c, rows, post, state, grad_evals - self.grads[c], now - self.last_write)
        self.written[c], self.grads[c] = rows_to, grad_evals
        return rec

    def poll(self, run):
        """After each wait of the run: ask for snapshots on the timer, and write the ones taken."""
        now = time.monotonic()
        if self.seconds is not None and now - self.last_request >= self.seconds:
            run.request_snapshot()
            self.last_request = now
        records = [self._record(run, c, s["rows"], s["state"], s["grad_evals"])
                   for c in range(len(self.written)) for s in run.snapshots(c)]
        if records:
            self.synced = checkpoint_file.append(self.path, records, self.synced or now)
            self.last_write = now

    def finish(self, run):
        """After the run: each chain's last rows and its final state (the run complete, or as far as it got)."""
        records = []
        for c, p in enumerate(run.progress()):
            for snap in run.snapshots(c):   # taken as it ended, not collected yet: each its own record still
                records.append(self._record(run, c, snap["rows"], snap["state"], snap["grad_evals"]))
            state = run.state(c)
            if state is None:  # the chain did not get to run: the file keeps the state it was resumed from
                continue
            records.append(self._record(run, c, p["saved"], state, run.grad_evals(c)))
        checkpoint_file.append(self.path, records, None)   # on the disk before bb.sample returns


def sample_with_checkpoints(model, config, inits, states, progressbar, checkpoint, every, seconds, resume,
                       overwrite=False):
    """bb.sample's run with checkpoints; returns the new draws (the file holds the whole run)."""
    every = _check(checkpoint, every, seconds, config)
    mode = _target(checkpoint, resume, overwrite)
    if every is None and seconds is None:
        seconds = DEFAULT_SECONDS
    n = config["chains"]
    totals = list(config.get("totals") or [config["tune"] + config["draws"]] * n)
    run_config = dict(config, totals=totals, snapshot_every=every or 0)
    if mode == "start":   # the file always holds the whole run: a resumed run's earlier draws first
        earlier = checkpoint_file.result_records(resume) if resume is not None else []
        checkpoint_file.start(checkpoint, earlier + [checkpoint_file.run_record(run_config)])
    else:
        checkpoint_file.drop_cut_off_tail(checkpoint)
        checkpoint_file.append(checkpoint, [checkpoint_file.run_record(run_config)], None)
    writer = _Writer(model, checkpoint, n, seconds)
    run, partial, secs = runner.run(model.compiled.program, run_config, inits, states, progressbar, "Sampling",
                                    on_wait=writer.poll)
    writer.finish(run)
    new = Result.from_run(run, run_config, model=model, seconds=secs, partial=bool(partial),
                          previous_states=states, report=False)
    if new.partial:
        warnings.warn(f"sampling was interrupted: the draws so far are kept and saved to {checkpoint}; "
                      f"bb.sample(model, resume={os.fspath(checkpoint)!r}) finishes the run", RuntimeWarning,
                      stacklevel=3)
    elif new.draws > 0:
        warn_after_sampling(new)
    return new
