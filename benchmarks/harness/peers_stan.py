"""The reference workloads in Stan (stan/w1..w5.stan), sampled by CmdStan through cmdstanpy when a
CmdStan installation is found, otherwise by PyStan (httpstan: the same Stan sampler, compiled in-process
by pip-installable wheels) when that is installed. Same data bytes as the other engines, indices 1-based.
"""
from __future__ import annotations

import os
import tempfile
import time
from importlib.resources import files

import numpy as np

_INDEX_KEYS = {"W2": ("state", "age", "race", "edu", "region", "state_race", "age_edu"), "W3": ("node1", "node2"),
               "W4": ("t", "s", "h"), "W5": ("county",)}


def backend():
    """("cmdstan", description) | ("pystan", description) | (None, why neither can run)."""
    try:
        import cmdstanpy
        try:
            path = cmdstanpy.cmdstan_path()
            return "cmdstan", f"CmdStan {os.path.basename(path)} via cmdstanpy {cmdstanpy.__version__}"
        except ValueError:
            why = "cmdstanpy is installed but found no CmdStan installation (python -m cmdstanpy.install_cmdstan)"
    except ImportError:
        why = "cmdstanpy is not installed"
    try:
        import httpstan
        import stan
        return "pystan", f"PyStan {stan.__version__} (httpstan {httpstan.__version__}), because {why}"
    except ImportError:
        return None, f"{why}, and PyStan is not installed (pip install cmdstanpy, or pystan)"


def program(workload):
    return files(__package__).joinpath("stan", f"{workload.lower()}.stan").read_text()


def data(workload, d):
    """The workload's arrays as Stan data (index arrays shifted to 1-based)."""
    out = {}
    for k, v in d.items():
        if k.startswith(("true_", "cell_", "n_cells")) or k in ("n_state", "n_age", "n_race", "n_edu", "n_region",
                                                                 "n_state_race", "n_age_edu", "K"):
            continue
        a = np.asarray(v)
        if k in _INDEX_KEYS.get(workload, ()):
            a = a.astype(np.int64) + 1
        out[k] = a.tolist() if a.ndim else a.item()
    if workload == "W5":
        out["county_idx"] = out.pop("county")
    if workload == "W2":
        out["female"] = [float(v) for v in out["female"]]
    return out


def sample(workload, d, seed, draws=1000, tune=1000, chains=4):
    """(compile seconds, sampling seconds, posterior {name: (chain, draw, ...)}, divergences)."""
    kind, _ = backend()
    if kind == "cmdstan":
        return _sample_cmdstan(workload, d, seed, draws, tune, chains)
    if kind == "pystan":
        return _sample_pystan(workload, d, seed, draws, tune, chains)
    raise RuntimeError("no Stan backend: " + backend()[1])


def _sample_cmdstan(workload, d, seed, draws, tune, chains):
    import cmdstanpy
    workdir = os.path.join(tempfile.gettempdir(), "brr_bayes_stan")
    os.makedirs(workdir, exist_ok=True)
    stan_file = os.path.join(workdir, f"{workload.lower()}.stan")
    with open(stan_file, "w") as fh:
        fh.write(program(workload))
    t0 = time.perf_counter()
    model = cmdstanpy.CmdStanModel(stan_file=stan_file)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = model.sample(data=data(workload, d), chains=chains, parallel_chains=chains, iter_warmup=tune,
                       iter_sampling=draws, seed=seed, show_progress=False)
    secs = time.perf_counter() - t0
    post = {k: v.reshape((chains, draws) + v.shape[1:]) for k, v in fit.stan_variables().items()}
    div = int(np.asarray(fit.method_variables()["divergent__"]).sum())
    return compile_s, secs, post, div


def _sample_pystan(workload, d, seed, draws, tune, chains):
    import stan
    t0 = time.perf_counter()
    model = stan.build(program(workload), data=data(workload, d), random_seed=seed)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = model.sample(num_chains=chains, num_samples=draws, num_warmup=tune)
    secs = time.perf_counter() - t0
    post = {}
    for name, dims in zip(fit.param_names, fit.dims):
        # PyStan flattens (draw, chain) with the chain varying fastest: index = draw * chains + chain
        a = np.asarray(fit[name]).reshape(tuple(dims) + (draws, chains))
        post[name] = np.moveaxis(np.moveaxis(a, -1, 0), -1, 1)
    div = int(np.asarray(fit["divergent__"]).sum())
    return compile_s, secs, post, div
