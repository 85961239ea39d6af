"""bb.sample: NUTS chains on C++ threads with a progress bar; Ctrl-C keeps the draws so far."""
from __future__ import annotations

import os
from typing import Literal, Optional

import numpy as np

from ..model import Model
from . import plan, runner
from .checkpoint import sample_with_checkpoints
from .distributed import sample_on_client
from .memory import check_fits
from .result import Result
from .samplers import Sampler, choice
from .seeds import resolve_seed
from .start_diagnosis import why_no_start


def sample(model, *, draws: Optional[int] = None, tune: Optional[int] = None, chains: Optional[int] = None,
           cores: Optional[int] = None, seed: Optional[int] = None, target_accept: Optional[float] = None,
           max_treedepth: Optional[int] = None, metric: Optional[Literal["diag", "dense", "low_rank"]] = None,
           adapt: Optional[Literal["stan", "fisher", "nutpie"]] = None,
           init=None,
           progressbar: bool = True, keep_warmup: bool = False, step_size: Optional[float] = None, resume=None,
           threads_per_chain: Optional[int] = None, checkpoint=None, checkpoint_every: Optional[int] = None,
           checkpoint_seconds: Optional[float] = None, overwrite: bool = False, client=None, checkpoint_dir=None,
           sampler: plan.SamplerName | Sampler = "nuts",
           device: Literal["cpu", "cuda", "cuda-emulated"] = "cpu", warm_start=None) -> Result:
    """Draw posterior samples with NUTS (Stan's algorithm and warm-up), ChEES-HMC or MEADS on C++ threads.

    Args:
        model: a ``bb.Model``.
        draws, tune: kept draws and warm-up iterations per chain (default 1000 each). A run whose draws
            (with their constrained values and deterministics) would not fit in the memory available is
            refused before it starts, with a ``draws`` that fits; past half of it, a warning.
        chains, cores: number of chains (default 4), and threads to run them on (default: all cores).
        seed: same seed, same draws, whatever ``cores`` is.
        target_accept: the acceptance statistic warm-up tunes the step size to (NUTS: 0.8, Stan's; ChEES: 0.651,
            its paper's; MEADS takes none). max_treedepth: NUTS's (10). Options a sampler does not take
            are refused by name; each sampler's own (ChEES's max_leapfrog, MEADS's folds, ...) are given
            through ``sampler=bb.ChEES(...)``.
        metric: 'diag' (default), 'dense' or 'low_rank' inverse metric. 'low_rank' is nutpie's low-rank + diagonal
            metric: the Fisher diagonal corrected along the few directions where the draws' and the
            gradients' covariances disagree with it (eigenvalues outside [1/2, 2]), re-estimated at the
            end of each of Stan's windows from up to 64 draws and gradients.
        adapt: 'stan' (windowed variance), 'fisher' (nutpie's sqrt(Var[x] / Var[grad]) in Stan's windows)
            or 'nutpie' (that estimate on nutpie's schedule: updated every draw, foreground/background
            estimators, step size alone at the end). Default 'stan' ('fisher' with metric='low_rank',
            the only adaptation it takes); 'nutpie' gives more ESS per gradient on five of the reference models but
            more divergences on the MRP demo (docs/sampler.md).
        init: {name: constrained value} (or one dict per chain); missing names start uniform(-2, 2).
            ``"pathfinder"``: each chain starts at a draw of a 4-path Pathfinder approximation
            (bb.pathfinder), in the bulk of the posterior; for models whose random starts wander
            (several modes). Left out: uniform(-2, 2) as Stan starts, except for ChEES and MEADS and for
            models that solve an ODE, which start from Pathfinder (an ODE's random start can sit where
            its solution is noise against atol, and a chain stalls there).
        keep_warmup: also store the warm-up draws.
        resume: a Result (from bb.sample or bb.Result.load, or the path of a saved one or of a checkpoint) whose chains continue exactly where they
            stopped, with the run's own seed, warm-up length and sampler settings (others passed are
            ignored with a warning). ``draws=N`` adds N kept draws to every chain (finishing its warm-up
            first if it was interrupted in it); ``draws`` left out finishes an interrupted run: each chain
            up to the draws it was asked for. The result holds the new draws; ``bb.concat(first, more)``
            joins them to the earlier ones, equal to one uninterrupted run. The model and data must be
            the ones the run was sampled with (checked).
        warm_start: a Result (or the path of a saved one, or a bb.glm fit) of an earlier fit of this model, on
            older or fewer data: the new fit starts where that one ended, with its adapted metric (its
            diagonal; a dense fit's whole matrix when this run is metric='dense' too and the parameters
            kept their layout; used from the first iteration and counted as 500 draws in every later estimate), its
            step size and each chain's last position, and a short warm-up (``tune`` defaults to 150).
            Parameters are matched by name; one may grow or shrink along its dims (a new day, a new poll
            house: matched by coords labels, else by position; a new coordinate starts at its nearest old
            neighbour, each named in a UserWarning); anything else (a parameter added or removed, a changed
            constraint or number of dims) is refused by name. NUTS only; not with ``init`` or ``resume``.
        checkpoint: a file path: the run so far (draws and every chain's sampler state) is appended there
            every ``checkpoint_every`` iterations per chain, or every ``checkpoint_seconds``
            (default: every 60 seconds). After a crash or a killed process, ``bb.sample(model,
            resume="run.nc")`` finishes the run, and ``bb.concat(bb.Result.load("run.nc"), rest)`` equals
            the uninterrupted run draw for draw. The file always holds the whole run (with ``resume=``,
            the earlier draws too); each checkpoint appends only the draws since the last, so it costs the same late in a
            long run as early, and the chains do not stop for it (measured on a 2 x (1000 + 1500) run with
            ``checkpoint_every=50``: 1.06x the run without checkpoints on W3, 1.12x on W5;
            benchmarks/checkpoint_overhead.py). ``bb.Result.load`` reads it (``partial=True`` until every
            chain has finished). A file that holds another run is not replaced: continue it with
            ``resume=`` or pass ``overwrite=True``.
        overwrite: with ``checkpoint=``, replace a file there that holds another run (default: refuse).
        client: a ``dask.distributed.Client``: each chain runs as a task on the cluster, from the compiled
            program shipped as bytes, and the draws equal those on this machine's threads, bit for bit. Each
            chain checkpoints into ``checkpoint_dir`` (a folder every worker reaches; default a temporary
            one, removed afterwards) every ``checkpoint_every`` iterations (default 100), so a chain
            whose worker is lost resumes on another from its last checkpoint. See docs/cluster.md.
        sampler: a name, or the sampler with its options as a typed object: ``bb.NUTS(...)``,
            ``bb.ChEES(max_leapfrog=500)``, ``bb.MEADS(folds=8)`` (``.options`` lists each with its default;
            an option given both there and as an argument here must agree).
            'nuts' (default) or 'chees': ChEES-HMC (Hoffman, Radul & Sountsov 2021), many chains in
            lock-step sharing a step size, a jittered trajectory length and a diagonal metric learned across
            them; for many short chains (chains=64 or more; judge convergence with
            ``result.nested_rhat()``). Its chains start from Pathfinder draws unless ``init`` is given. It
            is checkpointed and resumed as NUTS is (the whole ensemble at once, draw for draw as the
            uninterrupted run), but not run on a cluster (``client=``).
            'meads': MEADS (Hoffman & Sountsov 2022), generalized HMC (one leapfrog step per iteration,
            persistent momentum) whose step size, damping and diagonal preconditioner each of 4 folds of
            chains learns from another fold, with no step-size search; chains a multiple of 4, at least 8.
            Each iteration costs one gradient, so it wants many iterations (thousands) and many chains;
            started, checkpointed and resumed as ChEES.
        device: where the chains' log density and gradient are evaluated: 'cpu' (default), 'cuda' (the
            whole op program on the GPU through the device executor; the data are copied to the device
            once per run or checkpoint segment) or 'cuda-emulated' (the device executor's kernels run on
            the host: what the GPU computes, for checking a model without one). With ChEES one device
            evaluation holds every chain's point (many chains, any model size) and each trajectory's
            leapfrog steps run on the device, only its ends crossing; with NUTS, whose chains branch apart,
            each chain evaluates its own points on the device (worth it when the model's cost is many data
            rows; the chains share one device copy of the data). A model with an op that has no device
            kernel (ODE solves) is refused by name.
        threads_per_chain: threads each chain uses inside one likelihood evaluation (GLM likelihoods over
            more than 8,192 rows are split into row chunks). Default: the cores left over per chain,
            ``max(1, cores // chains)``. Draws are identical for any value.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 10)
        ...     _ = bb.Normal("y", mu, 1, observed=np.array([1.0, 2.0, 3.0]))
        >>> res = bb.sample(m, draws=300, tune=300, chains=2, seed=0, progressbar=False)
        >>> abs(float(res.posterior["mu"].mean()) - 2.0) < 0.3
        True
    """
    if isinstance(resume, (str, os.PathLike)):
        resume = Result.load(resume)
    if not isinstance(model, Model):
        raise TypeError(f"sample() needs a bb.Model, got {type(model).__name__}; to draw predictive samples from a "
                        "fit use bb.sample_posterior_predictive(result)")
    if model.dim == 0:
        raise ValueError("the model has no free parameters to sample")
    name, given = choice(sampler)
    lockstep = name if plan.is_lockstep(name) else (
        resume.config.get("sampler", "nuts") if isinstance(resume, Result) else "nuts")
    if client is not None and plan.is_lockstep(lockstep):
        raise ValueError(f"sampler='{lockstep}' runs its chains in lock-step on this machine: its chains cannot be "
                         "sent to a cluster one by one; leave client= out, or use sampler='nuts' there")
    if device not in plan.DEVICES:
        raise ValueError(f"device='{device}' is not known. Expected one of: {', '.join(map(repr, plan.DEVICES))}")
    if client is not None and device != "cpu":
        raise ValueError(f"device='{device}' evaluates on this machine; a cluster run (client=) samples on its "
                         "workers' CPUs: leave one of them out")
    if warm_start is not None and (resume is not None or init is not None):
        raise ValueError("warm_start= gives the starting points (the earlier fit's last positions): leave "
                         f"{'resume=' if resume is not None else 'init='} out")
    if warm_start is not None and plan.is_lockstep(name):
        raise ValueError(f"warm_start= is for sampler='nuts'; sampler='{name}' adapts its metric across its "
                         "chains from their states: leave warm_start out")
    if resume is not None:
        config, inits, states = plan.resume_plan(model, resume, draws, tune, chains, cores, keep_warmup,
                                                 dict(given, metric=metric, adapt=adapt, target_accept=target_accept,
                                                      max_treedepth=max_treedepth))
        config["row_threads"] = plan.chain_threads(threads_per_chain, config, cores)
        config["fingerprint"] = model.compiled.fingerprint
    else:
        config, inits = plan.fresh_plan(model, draws=draws, tune=tune, chains=chains, cores=cores, seed=seed,
                                   target_accept=target_accept, max_treedepth=max_treedepth, metric=metric,
                                   adapt=adapt, init=init, keep_warmup=keep_warmup, step_size=step_size,
                                   threads_per_chain=threads_per_chain, sampler=sampler, warm_start=warm_start)
        states = []
    if device != "cpu" or resume is None:
        config["device"] = device
    check_fits(model, config)
    if client is not None:
        if checkpoint is not None or checkpoint_seconds is not None:
            raise ValueError("with client=, every chain checkpoints into checkpoint_dir= every checkpoint_every "
                             "iterations; leave checkpoint= and checkpoint_seconds= out")
        return sample_on_client(model, config, inits, states, client, checkpoint_dir, checkpoint_every, progressbar)
    if checkpoint_dir is not None:
        raise ValueError("checkpoint_dir= is for runs on a cluster (client=); on this machine pass checkpoint= (a "
                         "file path)")
    if overwrite and checkpoint is None:
        raise ValueError("overwrite=True replaces the file at checkpoint=; pass checkpoint= too, or leave overwrite out")
    try:
        if checkpoint is not None or checkpoint_every is not None or checkpoint_seconds is not None:
            return sample_with_checkpoints(model, config, inits, states, progressbar, checkpoint, checkpoint_every,
                                           checkpoint_seconds, resume, overwrite)
        run, partial, seconds = runner.run(model.compiled.program, config, inits, states, progressbar, "Sampling")
    except RuntimeError as err:
        raise with_start_diagnosis(err, model) from None
    return Result.from_run(run, config, model=model, seconds=seconds, partial=partial, previous_states=states)


def with_start_diagnosis(err, model):
    """The sampler's 'no starting point' error with the term to blame named, where one is."""
    if "could not find a starting point" not in str(err):
        return err
    why = why_no_start(model)
    return RuntimeError(f"{err}. The likely cause: {why}") if why else err


def concat(*results):
    """Join runs of the same chains along the draws: a run and its resumed continuations.

    ``bb.concat(first, bb.sample(model, resume=first, draws=500))`` holds each chain's draws in order; after an
    interrupted run and ``resume=`` without ``draws``, it equals the uninterrupted run draw for draw.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 1)
        >>> a = bb.sample(m, draws=100, tune=100, chains=2, seed=1, progressbar=False)
        >>> b = bb.sample(m, resume=a, draws=50, progressbar=False)
        >>> bb.concat(a, b).posterior["mu"].shape
        (2, 150)
    """
    return Result.concat(results)


def sample_logp(logp_and_grad, dim: int, *, draws=None, tune=None, chains=None, seed=None, target_accept=None,
                max_treedepth=None, metric=None, adapt=None, init=None, progressbar=False,
                keep_warmup=False) -> Result:
    """NUTS on a Python log density ``f(x) -> (logp, grad)`` over R^dim (chains share the GIL).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> res = bb.sample_logp(lambda x: (-0.5 * x @ x, -x), 2, draws=200, tune=200, chains=2, seed=3)
        >>> res.posterior["x"].shape
        (2, 200, 2)
    """
    if not callable(logp_and_grad):
        raise TypeError("logp_and_grad must be callable: f(x) -> (logp, grad)")
    if int(dim) < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    seed = resolve_seed(seed)
    # one thread per chain: calls take turns on the GIL, so every chain advances (and Ctrl-C leaves each some draws)
    options = dict(target_accept=target_accept, max_treedepth=max_treedepth, metric=metric, adapt=adapt)
    config = plan.check_settings(draws, tune, chains, chains or plan.defaults()["chains"], seed, options, keep_warmup)
    chains = config["chains"]
    inits = [None] * chains if init is None else [np.asarray(i, dtype=np.float64) for i in init]
    run, partial, seconds = runner.run((logp_and_grad, int(dim)), config, inits, [], progressbar, "Sampling")
    return Result.from_run(run, config, model=None, seconds=seconds, partial=partial)
