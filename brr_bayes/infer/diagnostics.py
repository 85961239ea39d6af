"""Warnings after sampling, as Stan gives them: each problem once, with the count and what to try."""
from __future__ import annotations

import warnings

import numpy as np

from . import divergences
from .convergence import rhat_and_ess_bulk


class SamplingWarning(UserWarning):
    """A convergence or geometry problem found after sampling."""


def ebfmi(energy):
    """E-BFMI per chain from the energy at each draw (chain, draw)."""
    energy = np.atleast_2d(energy)
    num = np.sum(np.diff(energy, axis=1) ** 2, axis=1) / energy.shape[1]
    den = np.var(energy, axis=1)
    return num / np.where(den > 0, den, np.nan)


def diagnose(result):
    """List of (kind, message) for the problems found in a Result."""
    out = []
    st = result.sample_stats
    n_total = st["diverging"].size
    msg = divergences.message(st)
    if msg:
        out.append(("divergences", msg))
    # NUTS's trees only (a lock-step sampler's trajectories have no depth, and no max_treedepth to raise)
    max_depth = result.config.get("max_treedepth", 10 if result.config.get("sampler", "nuts") == "nuts" else None)
    n_sat = int((st["tree_depth"] >= max_depth).sum()) if max_depth is not None else 0
    if n_sat:
        out.append(("treedepth", f"{n_sat} of {n_total} draws hit max_treedepth={max_depth}; efficiency suffers. "
                    "Try a larger max_treedepth or metric='dense' for strongly correlated parameters."))
    if result.draws >= 20:
        low = [c for c, v in enumerate(ebfmi(st["energy"])) if v < 0.3]
        if low:
            out.append(("ebfmi", f"E-BFMI below 0.3 in chains {low}: the sampler explores the energy poorly; "
                        "consider reparameterising the model."))
    if result.draws >= 4:
        worst_r = min_ess = np.nan
        # the parameters, as PyMC checks its free variables: deterministics are functions of them, and
        # on a model with large ones (cell estimates, random walks' levels) they were most of the time
        names = getattr(result.model, "param_names", None) or list(result.posterior)
        for draws in (result.posterior[k] for k in names if k in result.posterior):
            if np.ndim(draws) < 2 or np.size(draws) == 0:
                continue
            r, e = rhat_and_ess_bulk(draws)
            if np.any(~np.isnan(r)):
                worst_r = np.nanmax([worst_r, np.nanmax(r)])
            if np.any(~np.isnan(e)):
                min_ess = np.nanmin([min_ess, np.nanmin(e)])
        if worst_r > 1.01:
            out.append(("rhat", f"max R-hat over all parameters is {worst_r:.3f} (> 1.01): the chains have not "
                        "mixed. Run longer (more tune and draws) and check the trace plots."))
        if min_ess < 400:
            out.append(("ess", f"min bulk ESS over all parameters is {min_ess:.0f} (< 400): estimates are noisy. "
                        "Run more draws."))
    return out


def warn_after_sampling(result):
    for _, msg in diagnose(result):
        warnings.warn(msg, SamplingWarning, stacklevel=4)
