"""bb.sample: NUTS chains on C++ threads with a progress bar; Ctrl-C keeps the draws so far."""
from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Literal, Optional

import numpy as np

from . import _backend
from .result import Result


def _default_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _resolve_seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2 ** 63))
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def _initial_points(model, init, chains, seed):
    """One unconstrained start per chain (None: the C++ chain draws uniform(-2, 2) itself)."""
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
            rv.transform.check(v, f"init for '{rv.name}'")
            off, usize = comp.layout[rv]
            x[off:off + usize] = np.ravel(rv.transform.inverse(v))
        starts.append(x)
    return starts


def _config(draws, tune, chains, cores, seed, target_accept, max_treedepth, metric, adapt, keep_warmup, step_size):
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
    return dict(draws=int(draws), tune=int(tune), chains=int(chains), threads=int(min(cores, chains)), seed=seed,
                target_accept=float(target_accept), max_treedepth=int(max_treedepth), metric=metric, adapt=adapt,
                keep_warmup=bool(keep_warmup), step_size=float(step_size))


def _threads_per_chain(value, config, cores):
    if value is None:
        return max(1, (_default_cores() if cores is None else int(cores)) // config["chains"])
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 1024:
        raise ValueError(f"threads_per_chain must be an integer from 1 to 1024 or None, got {value!r}")
    return int(value)


def _run(target, config, inits, states, progressbar, desc):
    """Start the C++ run, poll progress, handle Ctrl-C; returns (run, partial, seconds)."""
    core = _backend.core()
    run = core.start_sampling(target, config, list(inits), list(states))
    total = config["chains"] * (config["tune"] + config["draws"])
    bar = None
    if progressbar:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, desc=desc, unit="draw", file=sys.stderr, leave=True, dynamic_ncols=True)
    t0 = time.perf_counter()
    partial = False
    try:
        last = 0
        while not run.finished():
            time.sleep(0.05)
            if bar is not None:
                prog = run.progress()
                done = sum(p["done"] for p in prog)
                bar.update(done - last)
                last = done
                dt = max(time.perf_counter() - t0, 1e-9)
                bar.set_postfix(divergences=sum(p["divergences"] for p in prog),
                                step=",".join(f"{p['step_size']:.2g}" for p in prog),
                                per_chain=f"{done / dt / config['chains']:.0f}/s", refresh=False)
        if bar is not None:
            prog = run.progress()
            bar.update(sum(p["done"] for p in prog) - last)
    except KeyboardInterrupt:
        run.stop()
        partial = True
    finally:
        run.join()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    if partial:
        warnings.warn("sampling was interrupted: the result holds the draws made so far (result.partial is True)",
                      RuntimeWarning, stacklevel=3)
    errors = [run.error(c) for c in range(config["chains"])]
    if any(errors):
        bad = [(c, e) for c, e in enumerate(errors) if e]
        raise RuntimeError("; ".join(f"chain {c}: {e}" for c, e in bad))
    return run, partial, seconds


def sample(model, *, draws: int = 1000, tune: int = 1000, chains: int = 4, cores: Optional[int] = None,
           seed: Optional[int] = None, target_accept: float = 0.8, max_treedepth: int = 10,
           metric: Literal["diag", "dense", "low_rank"] = "diag",
           adapt: Optional[Literal["stan", "fisher", "nutpie"]] = None,
           init=None,
           progressbar: bool = True, keep_warmup: bool = False, step_size: float = 1.0, resume=None,
           threads_per_chain: Optional[int] = None) -> Result:
    """Draw posterior samples with NUTS (Stan's algorithm and warm-up) on C++ threads.

    Args:
        model: a ``bb.Model``.
        draws, tune: kept draws and warm-up iterations per chain.
        chains, cores: number of chains, and threads to run them on (default: all cores).
        seed: same seed, same draws, whatever ``cores`` is.
        target_accept, max_treedepth: NUTS settings (Stan's defaults).
        metric: 'diag', 'dense' or 'low_rank' inverse metric. 'low_rank' is nutpie's low-rank + diagonal
            metric: the Fisher diagonal corrected along the few directions where the draws' and the
            gradients' covariances disagree with it (eigenvalues outside [1/2, 2]), re-estimated at the
            end of each of Stan's windows from up to 64 draws and gradients.
        adapt: 'stan' (windowed variance), 'fisher' (nutpie's sqrt(Var[x] / Var[grad]) in Stan's windows)
            or 'nutpie' (that estimate on nutpie's schedule: updated every draw, foreground/background
            estimators, step size alone at the end). Default 'stan' ('fisher' with metric='low_rank',
            the only adaptation it takes); 'nutpie' gives more ESS per gradient on five of the reference models but
            more divergences on the MRP demo (docs/sampler.md).
        init: {name: constrained value} (or one dict per chain); missing names start uniform(-2, 2).
        keep_warmup: also store the warm-up draws.
        resume: a Result whose chains continue from their saved sampler state.
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
    from .model import Model
    if not isinstance(model, Model):
        raise TypeError(f"sample() needs a bb.Model, got {type(model).__name__}")
    if model.dim == 0:
        raise ValueError("the model has no free parameters to sample")
    seed = _resolve_seed(seed if resume is None else resume.seed)
    config = _config(draws, tune, chains, cores, seed, target_accept, max_treedepth, metric, adapt, keep_warmup,
                     step_size)
    config["row_threads"] = _threads_per_chain(threads_per_chain, config, cores)
    states = []
    if resume is not None:
        states = resume.sampler_states
        if len(states) != chains:
            raise ValueError(f"resume has {len(states)} chain states but chains={chains}")
    inits = _initial_points(model, init, chains, seed) if resume is None else []
    run, partial, seconds = _run(model.compiled.program, config, inits, states, progressbar, "Sampling")
    return Result.from_run(run, config, model=model, seconds=seconds, partial=partial)


def sample_logp(logp_and_grad, dim: int, *, draws=1000, tune=1000, chains=4, seed=None, target_accept=0.8,
                max_treedepth=10, metric="diag", adapt=None, init=None, progressbar=False,
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
    seed = _resolve_seed(seed)
    # one thread per chain: calls take turns on the GIL, so every chain advances (and Ctrl-C leaves each some draws)
    config = _config(draws, tune, chains, chains, seed, target_accept, max_treedepth, metric, adapt, keep_warmup, 1.0)
    inits = [None] * chains if init is None else [np.asarray(i, dtype=np.float64) for i in init]
    run, partial, seconds = _run((logp_and_grad, int(dim)), config, inits, [], progressbar, "Sampling")
    return Result.from_run(run, config, model=None, seconds=seconds, partial=partial)
