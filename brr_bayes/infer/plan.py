"""A run's plan: its settings checked (bb.sample's arguments, or a resumed run's saved ones), its chains'
starting points, and the dict the C++ sampler reads. bb.sample, checkpointed runs and cluster runs all
plan through here."""
from __future__ import annotations

import os
import warnings

import numpy as np

from .. import _backend
from .pathfinding import pathfinder
from .result import Result
from .seeds import resolve_seed


def default_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def initial_points(model, init, chains, seed):
    """One unconstrained start per chain (None: the C++ chain draws uniform(-2, 2) itself)."""
    if isinstance(init, str):
        if init != "pathfinder":
            raise ValueError(f"init must be a dict, a list of dicts (one per chain) or 'pathfinder', got {init!r}")
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


def check_settings(draws, tune, chains, cores, seed, target_accept, max_treedepth, metric, adapt, keep_warmup, step_size,
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
    cores = default_cores() if cores is None else cores
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


def chain_threads(value, config, cores):
    if value is None:
        return max(1, (default_cores() if cores is None else int(cores)) // config["chains"])
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 1024:
        raise ValueError(f"threads_per_chain must be an integer from 1 to 1024 or None, got {value!r}")
    return int(value)


def core_config(config):
    """The settings the C++ sampler reads (the rest of a run's config is for resume checks and records)."""
    return {k: v for k, v in config.items() if k not in ("inits", "fingerprint", "device")}


def fresh_plan(model, *, draws=None, tune=None, chains=None, cores=None, seed=None, target_accept=None,
               max_treedepth=None, metric=None, adapt=None, init=None, keep_warmup=False, step_size=None,
               threads_per_chain=None, sampler="nuts"):
    """(config, inits) of a new run of ``model``, every argument checked as ``bb.sample`` documents it."""
    seed = resolve_seed(seed)
    config = check_settings(draws, tune, chains, cores, seed, target_accept, max_treedepth, metric, adapt, keep_warmup,
                     step_size, sampler)
    if config["draws"] + config["tune"] == 0:
        raise ValueError("draws and tune are both 0: nothing to sample; pass draws >= 1")
    if init is None and sampler in LOCKSTEP:
        init = "pathfinder"   # lock-step chains share one step size: a chain lost far out would shrink it for all
    inits = initial_points(model, init, config["chains"], seed)
    config["inits"] = [None if x is None else [float(v) for v in x] for x in inits]
    config["row_threads"] = chain_threads(threads_per_chain, config, cores)
    config["fingerprint"] = model.compiled.fingerprint
    return config, inits


def resume_plan(model, prev, draws, tune, chains, cores, keep_warmup, passed):
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
    config = check_settings(max(totals) - tune0, tune0, n, cores, int(saved["seed"]), saved["target_accept"],
                     saved["max_treedepth"], saved["metric"] if nuts else None, saved["adapt"] if nuts else None,
                     keep_warmup, saved.get("step_size"), sampler)
    config["totals"] = totals
    config["device"] = saved.get("device", "cpu")
    config["inits"] = saved.get("inits") or [None] * n
    # a chain the interrupted run never started has no state: it starts as the run would have started it
    inits = [None if s is not None or x is None else np.asarray(x, dtype=np.float64)
             for s, x in zip(states, config["inits"])]
    return config, inits, states
