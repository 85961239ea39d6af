"""bb.fit_many: one fit per dataset (per-state models, backtests, scenario sweeps), here one after another
or as Dask tasks (distributed.py), each with its own seed from one root seed."""
from __future__ import annotations

import contextlib
import os
import shutil

from ..model import Model
from .distributed import check_client, check_every, fit_seeds, sample_task, task_folder, wait_for_tasks
from .plan import fresh_plan
from .result import Result
from .sampling import sample
from .seeds import resolve_seed


@contextlib.contextmanager
def naming_dataset(i, doing):
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
        sample_kwargs: draws, tune, chains, target_accept, metric, ... as for ``bb.sample``. ``warm_start`` is a
            list with one entry per dataset (an earlier fit of that dataset's model, its saved file, or None
            for a cold fit): each fit starts where its earlier one ended, as ``bb.sample(warm_start=)`` does.

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
    for bad in ("resume", "checkpoint", "checkpoint_seconds", "client", "init"):
        if bad in sample_kwargs:
            raise TypeError(f"fit_many does not take {bad}=; checkpoints go to checkpoint_dir=, and each fit starts "
                            "as bb.sample starts a chain")
    if not callable(build):
        raise TypeError(f"fit_many: build must be a function of one dataset returning a bb.Model, got "
                        f"{type(build).__name__}")
    datasets = list(datasets)
    seeds = fit_seeds(resolve_seed(seed), len(datasets))
    warm = sample_kwargs.pop("warm_start", None)
    if warm is None:
        warm = [None] * len(datasets)
    elif not isinstance(warm, (list, tuple)) or len(warm) != len(datasets):
        raise ValueError(f"fit_many: warm_start must be a list with one entry per dataset ({len(datasets)}: an earlier "
                         f"fit, its file, or None), got {type(warm).__name__}"
                         + (f" of {len(warm)}" if isinstance(warm, (list, tuple)) else ""))
    models = []
    for i, d in enumerate(datasets):
        with naming_dataset(i, "build"):
            m = build(d)
        if not isinstance(m, Model):
            raise TypeError(f"fit_many: build(datasets[{i}]) returned {type(m).__name__}, not a bb.Model")
        models.append(m)
    if client is None:
        out = []
        for i, (m, s) in enumerate(zip(models, seeds)):
            with naming_dataset(i, "sampling the model of"):
                out.append(sample(m, seed=s, progressbar=False, warm_start=warm[i], **sample_kwargs))
        for r in out:
            r.resumed_from_checkpoint = [0] * r.chains
        return out
    check_client(client)
    every = check_every(checkpoint_every)
    folder, made = task_folder(checkpoint_dir)
    plans, futures = [], []
    for i, (m, s) in enumerate(zip(models, seeds)):
        with naming_dataset(i, "warm-starting the model of"):
            config, inits = fresh_plan(m, seed=s, warm_start=warm[i], **sample_kwargs)
        if sample_kwargs.get("cores") is None:
            config["threads"] = 1     # one task a fit: its chains in turn, the worker's threads run other fits
        config["totals"] = [config["tune"] + config["draws"]] * config["chains"]
        path = os.path.join(folder, f"fit{i:05d}-{m.compiled.fingerprint[:12]}-seed{s}.ckpt")
        plans.append(config)
        futures.append(client.submit(sample_task, m.compiled.program, config, inits, [], path, every, pure=False))
    try:
        records = wait_for_tasks(client, futures, progressbar, "Fits")
    finally:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
    results = []
    for m, config, rec in zip(models, plans, records):
        res = Result.from_run(rec, config, model=m, seconds=rec.seconds, partial=False)
        res.resumed_from_checkpoint = list(rec.resumed_from)
        results.append(res)
    return results
