"""A run's plan: its settings checked (bb.sample's arguments, or a resumed run's saved ones), its chains'
starting points, and the dict the C++ sampler reads. bb.sample, checkpointed runs and cluster runs all
plan through here."""
from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

from .. import _backend, ops
from .._backend import default_cores
from .pathfinding import pathfinder
from .result import Result
from . import samplers as sampler_kinds
from . import warm_start as warm_starts
from .seeds import resolve_seed


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
    """A run's default size and sampler: the C++ SamplerConfig's (csrc/infer/run.hpp), written once there and
    read when first needed, so that importing brr_bayes does not need the built core. Each sampler's options
    and their defaults are its row of samplers()."""
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = dict(_backend.core().sampler_defaults())
    return _DEFAULTS


_DEFAULTS = None


# The sampler registry's names (csrc/infer/registry.cpp), for type checkers; test_sampler_registry checks
# that they are the registry's.
SamplerName = Literal["nuts", "chees", "meads"]
DEVICES = ("cpu", "cuda", "cuda-emulated")


def samplers() -> dict:
    """The sampler registry's rows by name (csrc/infer/registry.cpp: name, title, lockstep, options with their
    defaults), read when first needed."""
    global _SAMPLERS
    if _SAMPLERS is None:
        _SAMPLERS = {row["name"]: dict(row) for row in _backend.core().samplers()}
    return _SAMPLERS


_SAMPLERS = None


def is_lockstep(sampler) -> bool:
    """Whether ``sampler``'s chains step together (one batch evaluation per step); False for unknown names."""
    return isinstance(sampler, str) and samplers().get(sampler, {}).get("lockstep", False)


def solves_odes(model) -> bool:
    """Whether the model's log density solves an ODE (bb.ode.solve)."""
    program = getattr(getattr(model, "compiled", None), "program", None)
    return program is not None and ops.ODE_SOLVE in program.op_codes()


def _integer(name, v, what):
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
        raise ValueError(f"{name} must be {what}, got {v!r}")


def check_settings(draws, tune, chains, cores, seed, options, keep_warmup, sampler="nuts"):
    """A run's settings checked and completed; ``options``: the sampler's options as given, by name (None:
    not given). Python's types are checked here; every value is checked, and the defaults filled in, by the
    sampler registry (csrc/infer/registry.cpp: configure), the one place that also checks what the C++
    sampler is started with. The config holds every option of the sampler, and no other sampler's."""
    if isinstance(seed, (int, np.integer)) and not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed}")
    _integer("draws", draws, "a non-negative integer")
    _integer("tune", tune, "a non-negative integer")
    _integer("chains", chains, "a positive integer")
    _integer("max_treedepth", options.get("max_treedepth"), "an integer from 1 to 30")
    if not isinstance(sampler, str):
        raise ValueError(f"sampler must be a name (a str), got {sampler!r}")
    sampler_kinds.check_kinds(options)
    given = dict(sampler=sampler, draws=draws, tune=tune, chains=chains, **options)
    checked = _backend.core().check_sampler_config({k: v for k, v in given.items() if v is not None})
    cores = default_cores() if cores is None else cores
    if isinstance(cores, bool) or not isinstance(cores, (int, np.integer)) or cores < 1:
        raise ValueError(f"cores must be a positive integer or None, got {cores!r}")
    return dict(sampler=checked["sampler"], draws=checked["draws"], tune=checked["tune"], chains=checked["chains"],
                threads=int(min(cores, checked["chains"])), seed=seed, keep_warmup=bool(keep_warmup),
                **checked["options"])


def chain_threads(value, config, cores):
    if value is None:
        return max(1, (default_cores() if cores is None else int(cores)) // config["chains"])
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 1024:
        raise ValueError(f"threads_per_chain must be an integer from 1 to 1024 or None, got {value!r}")
    return int(value)


def core_config(config):
    """The settings the C++ sampler reads (the rest of a run's config is for resume checks and records)."""
    return {k: v for k, v in config.items() if k not in ("inits", "fingerprint", "device", "layout", "warm_start")}


def fresh_plan(model, *, draws=None, tune=None, chains=None, cores=None, seed=None, target_accept=None,
               max_treedepth=None, metric=None, adapt=None, init=None, keep_warmup=False, step_size=None,
               threads_per_chain=None, sampler="nuts", warm_start=None):
    """(config, inits) of a new run of ``model``, every argument checked as ``bb.sample`` documents it;
    ``sampler``: a registry name or a bb.NUTS / bb.ChEES / bb.MEADS with its options."""
    seed = resolve_seed(seed)
    sampler, given = sampler_kinds.choice(sampler)
    options = sampler_kinds.merged(given, target_accept=target_accept, max_treedepth=max_treedepth, metric=metric,
                                   adapt=adapt, step_size=step_size)
    warm = None
    if warm_start is not None:   # the earlier fit's positions, metric and step size, and a short warm-up
        warm = warm_starts.plan(model, warm_start, defaults()["chains"] if chains is None else chains)
        tune = warm_starts.WARM_TUNE if tune is None else tune
        options.setdefault("step_size", warm.step_size)
    config = check_settings(draws, tune, chains, cores, seed, options, keep_warmup, sampler)
    if config["draws"] + config["tune"] == 0:
        raise ValueError("draws and tune are both 0: nothing to sample; pass draws >= 1")
    if init is None and (is_lockstep(sampler) or solves_odes(model)):
        # lock-step chains share one step size: a chain lost far out would shrink it for all. An ODE
        # model's random start can sit where the solution is tiny against atol, its log density noise of
        # the parameters: NUTS's step size collapses there and the chain never leaves (Lotka-Volterra,
        # one chain of four from uniform(-2, 2), 1,023 leapfrogs a draw for all its 2,000 iterations)
        init = "pathfinder"
    inits = warm.inits if warm is not None else initial_points(model, init, config["chains"], seed)
    config["layout"] = warm_starts.layout(model)    # what a later warm start matches parameters by
    if warm is not None:
        dense = config.get("metric") == "dense" and warm.dense_inv_metric is not None
        config["warm_inv_metric"] = [float(v) for v in (warm.dense_inv_metric if dense else warm.inv_metric)]
        config["warm_prior_draws"] = warm_starts.PRIOR_DRAWS
        config["warm_start"] = warm.source or "a Result"
        warm_starts.announce(warm)
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
    if sampler not in samplers():
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
    takes = samplers()[sampler]["options"]
    if samplers()[sampler]["lockstep"] and "max_treedepth" in saved:
        # saved before each sampler had options of its own: the config recorded NUTS's, which a lock-step
        # sampler never read; it ran with its defaults (ChEES with the first step size it recorded)
        options = {k: saved[k] for k in ("step_size",) if k in saved and k in takes}
    else:
        options = {k: saved[k] for k in takes if k in saved}
    config = check_settings(max(totals) - tune0, tune0, n, cores, int(saved["seed"]), options, keep_warmup, sampler)
    config["totals"] = totals
    config["device"] = saved.get("device", "cpu")
    for key in ("layout", "warm_inv_metric", "warm_prior_draws", "warm_start"):   # a warm start's, kept
        if key in saved:
            config[key] = saved[key]
    config["inits"] = saved.get("inits") or [None] * n
    # a chain the interrupted run never started has no state: it starts as the run would have started it
    inits = [None if s is not None or x is None else np.asarray(x, dtype=np.float64)
             for s, x in zip(states, config["inits"])]
    return config, inits, states
