"""bb.sample: NUTS chains on C++ threads with a progress bar; Ctrl-C keeps the draws so far."""
from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Literal, Optional

import numpy as np

from .. import _backend
from .memory import check_fits
from .result import Result


def _default_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve_seed(seed):
    """The run's integer seed: ``seed`` checked, or a fresh one for None (used by bb.sample and bb.fit_many)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2 ** 63))
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed must be an integer in [0, 2**64) or None, got {seed!r}")
    return int(seed)


def _initial_points(model, init, chains, seed):
    """One unconstrained start per chain (None: the C++ chain draws uniform(-2, 2) itself)."""
    if isinstance(init, str):
        if init != "pathfinder":
            raise ValueError(f"init must be a dict, a list of dicts (one per chain) or 'pathfinder', got {init!r}")
        from .pathfinding import pathfinder
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = pathfinder(model, paths=4, draws=max(100, 4 * chains), seed=seed)
        for w in caught:   # said at the user's bb.sample call (sample -> fresh_plan -> here)
            warnings.warn(str(w.message), w.category, stacklevel=4)
        return fit.initial_points(chains, seed)
    with_initval = [rv for rv in model.free_rvs if rv.initval is not None]
    if init is None and not with_initval:
        return [None] * chains
    per_chain = init if isinstance(init, (list, tuple)) else [init] * chains
    if len(per_chain) != chains:
        raise ValueError(f"init has {len(per_chain)} entries but chains={chains}; pass one dict per chain or one dict")
    starts = []
    for c, values in enumerate(per_chain):
        values = dict(values or {})
        unknown = set(values) - {rv.name for rv in model.free_rvs}
        if unknown:
            raise ValueError(f"init names unknown parameters {sorted(unknown)}; parameters are {model.param_names}")
        rng = np.random.default_rng([seed, c])
        x = rng.uniform(-2, 2, model.dim)
        comp = model.compiled
        for rv in model.free_rvs:
            v = values.get(rv.name, rv.initval)
            if v is None:
                continue
            try:
                v = np.broadcast_to(np.asarray(v, dtype=np.float64), rv.shape)
            except ValueError:
                raise ValueError(f"init for '{rv.name}' has shape {np.shape(v)}, expected {rv.shape}") from None
            if getattr(rv.transform, "depends_on_parameters", False):
                raise ValueError(f"init for '{rv.name}': its bounds are parameters, so a fixed initial value may lie "
                                 "outside them; leave it out of init= (it starts inside its bounds by construction)")
            rv.transform.check(v, f"init for '{rv.name}'")
            off, usize = comp.layout[rv]
            x[off:off + usize] = np.ravel(rv.transform.inverse(v))
        starts.append(x)
    return starts


def defaults() -> dict:
    """The sampler's default settings: the C++ SamplerConfig's (csrc/infer/nuts/chain.hpp, csrc/infer/run.hpp), written once
    there and read when first needed, so that importing brr_bayes does not need the built core."""
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = dict(_backend.core().sampler_defaults())
    return _DEFAULTS


_DEFAULTS = None


SAMPLERS = ("nuts", "chees", "meads")
LOCKSTEP = ("chees", "meads")   # many chains stepping together, one batch evaluation per step
DEVICES = ("cpu", "cuda", "cuda-emulated")


def _config(draws, tune, chains, cores, seed, target_accept, max_treedepth, metric, adapt, keep_warmup, step_size,
            sampler="nuts"):
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler='{sampler}' is not known. Expected one of: {', '.join(map(repr, SAMPLERS))}")
    if sampler == "chees":
        if chains is not None and chains < 2:
            raise ValueError(f"sampler='chees' learns its step size, trajectory length and metric across chains: "
                             f"pass chains >= 2 (tens to hundreds), got {chains}")
    if sampler in LOCKSTEP and (metric not in (None, "diag") or adapt is not None):
        raise ValueError(f"sampler='{sampler}' adapts a diagonal metric across chains; leave metric= and adapt= out")
    DEFAULTS = defaults()
    draws = DEFAULTS["draws"] if draws is None else draws
    tune = DEFAULTS["tune"] if tune is None else tune
    chains = DEFAULTS["chains"] if chains is None else chains
    folds = DEFAULTS["meads_folds"]
    if sampler == "meads" and (chains < 2 * folds or chains % folds):
        raise ValueError(f"sampler='meads' splits its chains into {folds} folds that tune each other: pass "
                         f"chains a multiple of {folds}, at least {2 * folds} (tens to hundreds), got {chains}")
    target_accept = DEFAULTS["target_accept"] if target_accept is None else target_accept
    max_treedepth = DEFAULTS["max_treedepth"] if max_treedepth is None else max_treedepth
    metric = DEFAULTS["metric"] if metric is None else metric
    step_size = DEFAULTS["step_size"] if step_size is None else step_size
    if isinstance(seed, (int, np.integer)) and not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed}")
    for name, v in (("draws", draws), ("tune", tune)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    if not isinstance(chains, (int, np.integer)) or chains < 1:
        raise ValueError(f"chains must be a positive integer, got {chains!r}")
    cores = _default_cores() if cores is None else cores
    if not isinstance(cores, (int, np.integer)) or cores < 1:
        raise ValueError(f"cores must be a positive integer or None, got {cores!r}")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be in (0, 1), got {target_accept}; 0.8 is the default, 0.95-0.99 for "
                         "hard geometry")
    if metric not in ("diag", "dense", "low_rank"):
        raise ValueError(f"metric='{metric}' is not known. Expected one of: 'diag', 'dense', 'low_rank'")
    if adapt is None:  # Stan's windows: nutpie's schedule wins per gradient on five models but not yet on MRP
        adapt = "fisher" if metric == "low_rank" else "stan"
    if metric == "low_rank" and adapt != "fisher":
        raise ValueError(f"metric='low_rank' is estimated from draws and gradients in Stan's windows; use "
                         f"adapt='fisher' (or leave adapt=None), not adapt='{adapt}'")
    if adapt not in ("stan", "fisher", "nutpie"):
        raise ValueError(f"adapt='{adapt}' is not known. Expected one of: 'stan', 'fisher', 'nutpie'")
    return dict(sampler=sampler, draws=int(draws), tune=int(tune), chains=int(chains),
                threads=int(min(cores, chains)), seed=seed,
                target_accept=float(target_accept), max_treedepth=int(max_treedepth), metric=metric, adapt=adapt,
                keep_warmup=bool(keep_warmup), step_size=float(step_size))


def _threads_per_chain(value, config, cores):
    if value is None:
        return max(1, (_default_cores() if cores is None else int(cores)) // config["chains"])
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 1024:
        raise ValueError(f"threads_per_chain must be an integer from 1 to 1024 or None, got {value!r}")
    return int(value)


def core_config(config):
    """The settings the C++ sampler reads (the rest of a run's config is for resume checks and records)."""
    return {k: v for k, v in config.items() if k not in ("inits", "fingerprint", "device")}


def _device_evaluator(program, device, chains, sampler):
    """What a run on ``device`` evaluates through: None on the CPU; for ChEES one device evaluator holding
    every chain's point; for NUTS (whose chains branch apart) a list of single-point evaluators, one per chain,
    over one device copy of the model's data."""
    if device == "cpu":
        return None
    missing = program.device_unsupported_ops()
    if missing:
        from .._op_codes import TABLE
        names = {code: name.lower() for name, code in TABLE.items()}
        raise ValueError(f"device='{device}': the model uses ops without a device kernel yet "
                         f"({', '.join(sorted({names.get(c, str(c)) for c in missing}))}); sample it with device='cpu'")
    if device == "cuda":
        if not _backend.cuda_available():
            why = "the CUDA extension was not built (nvcc missing at install)" if not _backend.cuda_built() \
                else "no CUDA device is visible"
            raise RuntimeError(f"device='cuda': {why}; use device='cpu', or install on a machine with a GPU")
        make = _backend.cuda_module().ProgramDevice
    else:
        make = _backend.core().HostGridDevice
    if sampler in LOCKSTEP:
        return make(program, chains)
    first = make(program, 1)   # the model's data goes to the device once; every chain's evaluator reads it
    return [first] + [make(program, 1, share=first) for _ in range(chains - 1)]


def fresh_plan(model, *, draws=None, tune=None, chains=None, cores=None, seed=None, target_accept=None,
               max_treedepth=None, metric=None, adapt=None, init=None, keep_warmup=False, step_size=None,
               threads_per_chain=None, sampler="nuts"):
    """(config, inits) of a new run of ``model``, every argument checked as ``bb.sample`` documents it."""
    seed = resolve_seed(seed)
    config = _config(draws, tune, chains, cores, seed, target_accept, max_treedepth, metric, adapt, keep_warmup,
                     step_size, sampler)
    if config["draws"] + config["tune"] == 0:
        raise ValueError("draws and tune are both 0: nothing to sample; pass draws >= 1")
    if init is None and sampler in LOCKSTEP:
        init = "pathfinder"   # lock-step chains share one step size: a chain lost far out would shrink it for all
    inits = _initial_points(model, init, config["chains"], seed)
    config["inits"] = [None if x is None else [float(v) for v in x] for x in inits]
    config["row_threads"] = _threads_per_chain(threads_per_chain, config, cores)
    config["fingerprint"] = model.compiled.fingerprint
    return config, inits


def _run(target, config, inits, states, progressbar, desc, on_wait=None):
    """Start the C++ run, poll progress, handle Ctrl-C; returns (run, partial, seconds).

    ``on_wait(run)`` is called at least every 50 ms while the chains sample (checkpoints are written there).
    """
    core = _backend.core()
    device = _device_evaluator(target, config.get("device", "cpu"), config["chains"], config["sampler"])
    run = core.start_sampling(target, core_config(config), list(inits), list(states), device)
    starts = [s["iteration"] if s else 0 for s in states] or [0] * config["chains"]
    totals = config.get("totals") or [config["tune"] + config["draws"]] * config["chains"]
    total = sum(max(0, t - s) for s, t in zip(starts, totals))
    bar = None
    if progressbar:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, desc=desc, unit="draw", file=sys.stderr, leave=True, dynamic_ncols=True)
    t0 = time.perf_counter()
    partial = False
    try:
        last = 0
        # wait returns as soon as the chains are done (a short checkpoint segment is not kept waiting) and
        # at least every 50 ms, for Ctrl-C, the timer and the progress bar
        while not run.wait(0.05):
            if on_wait is not None:
                on_wait(run)
            if bar is not None:
                prog = run.progress()
                done = sum(max(0, p["done"] - s) for p, s in zip(prog, starts))
                bar.update(done - last)
                last = done
                dt = max(time.perf_counter() - t0, 1e-9)
                # a chain waiting for a free thread has made no draw yet: say so instead of its initial step
                steps = [f"{p['step_size']:.2g}" if p["done"] > s else "waiting" for p, s in zip(prog, starts)]
                bar.set_postfix(divergences=sum(p["divergences"] for p in prog), step=",".join(steps),
                                per_chain=f"{done / dt / config['chains']:.0f}/s", refresh=False)
        if bar is not None:
            prog = run.progress()
            bar.update(sum(max(0, p["done"] - s) for p, s in zip(prog, starts)) - last)
    except KeyboardInterrupt:
        run.stop()
        partial = True
    except BaseException:   # a failed checkpoint write, say: stop the chains rather than wait for their end
        run.stop()
        raise
    finally:
        run.join()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    errors = [run.error(c) for c in range(config["chains"])]
    if any(errors):
        bad = [(c, e) for c, e in enumerate(errors) if e]
        raise RuntimeError("; ".join(f"chain {c}: {e}" for c, e in bad))
    return run, partial, seconds


def sample(model, *, draws: Optional[int] = None, tune: Optional[int] = None, chains: Optional[int] = None,
           cores: Optional[int] = None, seed: Optional[int] = None, target_accept: Optional[float] = None,
           max_treedepth: Optional[int] = None, metric: Optional[Literal["diag", "dense", "low_rank"]] = None,
           adapt: Optional[Literal["stan", "fisher", "nutpie"]] = None,
           init=None,
           progressbar: bool = True, keep_warmup: bool = False, step_size: Optional[float] = None, resume=None,
           threads_per_chain: Optional[int] = None, checkpoint=None, checkpoint_every: Optional[int] = None,
           checkpoint_seconds: Optional[float] = None, overwrite: bool = False, client=None, checkpoint_dir=None,
           sampler: Literal["nuts", "chees", "meads"] = "nuts",
           device: Literal["cpu", "cuda", "cuda-emulated"] = "cpu") -> Result:
    """Draw posterior samples with NUTS (Stan's algorithm and warm-up), ChEES-HMC or MEADS on C++ threads.

    Args:
        model: a ``bb.Model``.
        draws, tune: kept draws and warm-up iterations per chain (default 1000 each). A run whose draws
            (with their constrained values and deterministics) would not fit in the memory available is
            refused before it starts, with a ``draws`` that fits; past half of it, a warning.
        chains, cores: number of chains (default 4), and threads to run them on (default: all cores).
        seed: same seed, same draws, whatever ``cores`` is.
        target_accept, max_treedepth: NUTS settings (Stan's defaults, 0.8 and 10).
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
            (ODEs far from their data, several modes).
        keep_warmup: also store the warm-up draws.
        resume: a Result (from bb.sample or bb.Result.load, or the path of a saved one or of a checkpoint) whose chains continue exactly where they
            stopped, with the run's own seed, warm-up length and sampler settings (others passed are
            ignored with a warning). ``draws=N`` adds N kept draws to every chain (finishing its warm-up
            first if it was interrupted in it); ``draws`` left out finishes an interrupted run: each chain
            up to the draws it was asked for. The result holds the new draws; ``bb.concat(first, more)``
            joins them to the earlier ones, equal to one uninterrupted run. The model and data must be
            the ones the run was sampled with (checked).
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
        sampler: 'nuts' (default) or 'chees': ChEES-HMC (Hoffman, Radul & Sountsov 2021), many chains in
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
    from ..model import Model
    if isinstance(resume, (str, os.PathLike)):
        resume = Result.load(resume)
    if not isinstance(model, Model):
        raise TypeError(f"sample() needs a bb.Model, got {type(model).__name__}; to draw predictive samples from a "
                        "fit use bb.sample_posterior_predictive(result)")
    if model.dim == 0:
        raise ValueError("the model has no free parameters to sample")
    lockstep = sampler if sampler in LOCKSTEP else (
        resume.config.get("sampler", "nuts") if isinstance(resume, Result) else "nuts")
    if client is not None and lockstep in LOCKSTEP:
        raise ValueError(f"sampler='{lockstep}' runs its chains in lock-step on this machine: its chains cannot be "
                         "sent to a cluster one by one; leave client= out, or use sampler='nuts' there")
    if device not in DEVICES:
        raise ValueError(f"device='{device}' is not known. Expected one of: {', '.join(map(repr, DEVICES))}")
    if client is not None and device != "cpu":
        raise ValueError(f"device='{device}' evaluates on this machine; a cluster run (client=) samples on its "
                         "workers' CPUs: leave one of them out")
    if resume is not None:
        config, inits, states = _resume_plan(model, resume, draws, tune, chains, cores, keep_warmup,
                                             dict(metric=metric, adapt=adapt, target_accept=target_accept,
                                                  max_treedepth=max_treedepth))
        config["row_threads"] = _threads_per_chain(threads_per_chain, config, cores)
        config["fingerprint"] = model.compiled.fingerprint
    else:
        config, inits = fresh_plan(model, draws=draws, tune=tune, chains=chains, cores=cores, seed=seed,
                                   target_accept=target_accept, max_treedepth=max_treedepth, metric=metric,
                                   adapt=adapt, init=init, keep_warmup=keep_warmup, step_size=step_size,
                                   threads_per_chain=threads_per_chain, sampler=sampler)
        states = []
    if device != "cpu" or resume is None:
        config["device"] = device
    check_fits(model, config)
    if client is not None:
        if checkpoint is not None or checkpoint_seconds is not None:
            raise ValueError("with client=, every chain checkpoints into checkpoint_dir= every checkpoint_every "
                             "iterations; leave checkpoint= and checkpoint_seconds= out")
        from .distributed import sample_on_client
        return sample_on_client(model, config, inits, states, client, checkpoint_dir, checkpoint_every, progressbar)
    if checkpoint_dir is not None:
        raise ValueError("checkpoint_dir= is for runs on a cluster (client=); on this machine pass checkpoint= (a "
                         "file path)")
    if overwrite and checkpoint is None:
        raise ValueError("overwrite=True replaces the file at checkpoint=; pass checkpoint= too, or leave overwrite out")
    try:
        if checkpoint is not None or checkpoint_every is not None or checkpoint_seconds is not None:
            from .checkpoint import sample_in_segments
            return sample_in_segments(model, config, inits, states, progressbar, checkpoint, checkpoint_every,
                                      checkpoint_seconds, resume, overwrite)
        run, partial, seconds = _run(model.compiled.program, config, inits, states, progressbar, "Sampling")
    except RuntimeError as err:
        raise _with_start_diagnosis(err, model) from None
    return Result.from_run(run, config, model=model, seconds=seconds, partial=partial, previous_states=states)


def _with_start_diagnosis(err, model):
    """The sampler's 'no starting point' error with the term to blame named, where one is."""
    if "could not find a starting point" not in str(err):
        return err
    from .start_diagnosis import why_no_start
    why = why_no_start(model)
    return RuntimeError(f"{err}. The likely cause: {why}") if why else err


def _resume_plan(model, prev, draws, tune, chains, cores, keep_warmup, passed):
    """(config, inits, states) continuing ``prev``: see sample()'s ``resume``."""
    if not isinstance(prev, Result):
        raise TypeError(f"resume must be a bb.Result (from bb.sample or bb.Result.load) or the path of a saved run, "
                        f"got {type(prev).__name__}")
    states = list(prev.sampler_states)
    saved = dict(prev.config)
    sampler = saved.get("sampler", "nuts")
    if sampler not in SAMPLERS:
        raise ValueError(f"resume: this run was sampled with sampler='{sampler}', which this version does not know; "
                         "sample afresh")
    n = len(states)
    if not n or "tune" not in saved:
        raise ValueError("resume: this result holds no sampler states (it was not made by bb.sample); sample afresh")
    if chains is not None and chains != n:
        raise ValueError(f"resume: the run has {n} chains, got chains={chains}; leave chains out to continue all of them")
    fp = saved.get("fingerprint")
    if fp is None:
        warnings.warn("resume: this result was saved without a model fingerprint, so it cannot be checked that it "
                      "comes from this model and data", UserWarning, stacklevel=3)
    elif fp != model.compiled.fingerprint:
        raise ValueError("resume: the run was sampled from a different model or different data (the compiled "
                         "programs differ); resume only with the model and data it was sampled with, or sample afresh")
    for s in states:
        if s is not None and len(s["position"]) != model.dim:
            raise ValueError(f"resume: the saved chains have {len(s['position'])} parameters, the model has {model.dim}")
    ignored = [f"{k}={v!r} (the run uses {saved.get(k)!r})" for k, v in passed.items()
               if v is not None and v != saved.get(k)]
    tune0 = int(saved["tune"])
    if tune is not None and tune != tune0:
        ignored.append(f"tune={tune} (the chains continue the run's warm-up of {tune0} iterations)")
    if ignored:
        warnings.warn("resume keeps the saved run's sampler settings; ignored: " + ", ".join(ignored), UserWarning,
                      stacklevel=3)
    starts = [int(s["iteration"]) if s else 0 for s in states]
    asked = saved.get("totals") or [tune0 + int(saved["draws"])] * n
    if draws is None:
        totals = list(asked)
        if all(i >= t for i, t in zip(starts, totals)):
            raise ValueError(f"resume: every chain has finished the {int(saved['draws'])} draws it was asked for; pass "
                             "draws=N to add N more draws to each chain")
    else:
        if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
            raise ValueError(f"draws must be a positive integer (the draws to add to each chain), got {draws!r}")
        totals = [max(i, tune0) + int(draws) for i in starts]
    nuts = sampler == "nuts"   # ChEES adapts its own metric: metric= and adapt= are not its settings
    config = _config(max(totals) - tune0, tune0, n, cores, int(saved["seed"]), saved["target_accept"],
                     saved["max_treedepth"], saved["metric"] if nuts else None, saved["adapt"] if nuts else None,
                     keep_warmup, saved.get("step_size"), sampler)
    config["totals"] = totals
    config["device"] = saved.get("device", "cpu")
    config["inits"] = saved.get("inits") or [None] * n
    # a chain the interrupted run never started has no state: it starts as the run would have started it
    inits = [None if s is not None or x is None else np.asarray(x, dtype=np.float64)
             for s, x in zip(states, config["inits"])]
    return config, inits, states


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
    config = _config(draws, tune, chains, chains or defaults()["chains"], seed, target_accept, max_treedepth, metric,
                     adapt, keep_warmup, None)
    chains = config["chains"]
    inits = [None] * chains if init is None else [np.asarray(i, dtype=np.float64) for i in init]
    run, partial, seconds = _run((logp_and_grad, int(dim)), config, inits, [], progressbar, "Sampling")
    return Result.from_run(run, config, model=None, seconds=seconds, partial=partial)
