"""Checkpointed sampling: the run in segments, each saved atomically before the next starts.

A segment ends after ``every`` more iterations per chain, or when a timer stops the chains as Ctrl-C
would. Either way the next segment resumes every chain from its exact sampler state, so the joined
draws equal one uninterrupted run bit for bit (the property the resume tests check), and a process
killed at any moment leaves the last checkpoint to resume from.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .result import Result

DEFAULT_SECONDS = 60.0   # a save takes ~0.1-0.5 s: once a minute costs under 1%


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
    """(config, inits) of the next segment: each chain runs up to ``every`` more iterations (None: to its
    total), and a chain that has not started yet starts from its own initial point, whichever segment it is."""
    n = config["chains"]
    starts = [int(s["iteration"]) if s else 0 for s in states] or [0] * n
    seg = dict(config, totals=[t if every is None else min(t, st + every) for st, t in zip(starts, totals)])
    return seg, [x if not states or states[c] is None else None for c, x in enumerate(inits)]


def sample_in_segments(model, config, inits, states, progressbar, checkpoint, every, seconds, resume):
    """bb.sample's run with checkpoints; returns the new draws (the file holds the whole run)."""
    from .sampling import _run
    every = _check(checkpoint, every, seconds, config)
    if every is None and seconds is None:
        seconds = DEFAULT_SECONDS
    n = config["chains"]
    totals = list(config.get("totals") or [config["tune"] + config["draws"]] * n)
    whole = resume        # the file holds the whole run: earlier draws first
    new = None
    states = list(states)
    first_inits = list(inits) + [None] * (n - len(inits))
    while True:
        seg, inits = next_segment(config, first_inits, states, totals, every)
        run, partial, secs = _run(model.compiled.program, seg, inits, states, progressbar, "Sampling",
                                  stop_after=seconds)
        part = Result.from_run(run, dict(seg, totals=totals), model=model, seconds=secs, partial=bool(partial),
                               previous_states=states, report=False)
        new = part if new is None else Result.concat([new, part])
        whole = part if whole is None else Result.concat([whole, part])
        whole.save(checkpoint)
        states = list(part.sampler_states)
        done = all(s is not None and s["iteration"] >= t for s, t in zip(states, totals))
        if partial is True or done:
            break
    new.partial = partial is True
    if new.partial:
        warnings.warn(f"sampling was interrupted: the draws so far are kept and saved to {checkpoint}; "
                      f"bb.sample(model, resume={os.fspath(checkpoint)!r}) finishes the run", RuntimeWarning,
                      stacklevel=3)
    elif new.draws > 0:
        from .diagnostics import warn_after_sampling
        warn_after_sampling(new)
    return new
