"""Why transitions diverged: the causes the samplers record per draw (the ``divergence_reason`` statistic,
codes from the C++ table csrc/common/divergence.hpp) by name, counted, and what to try for each."""
from __future__ import annotations

import functools

import numpy as np

from .. import _backend

# what to try, by cause; a cause not listed gets the general advice
ADVICE = {
    "energy": "Try target_accept=0.95 or higher, or reparameterise (non-centred random effects).",
    "not_finite": "Check where the log density is not finite (log of a negative or zero value, overflow); "
                  "constrain the parameters that reach there.",
    "ode_max_steps": "An ODE solve ran out of steps where the sampler went: use method='bdf' if the system is "
                     "stiff there, raise max_steps, or narrow the priors that lead there.",
    "ode_step_too_small": "An ODE solve could not resolve its step: the system is stiff or singular there; use "
                          "method='bdf' or narrow the priors that lead there.",
    "ode_not_finite": "An ODE right-hand side overflowed (a solution blowing up in finite time): narrow the "
                      "priors that lead there.",
}


@functools.lru_cache(maxsize=None)
def reasons():
    """{code: (name, meaning)} of every cause the samplers record (code 0: no divergence).

    Example:
        >>> from brr_bayes.infer.divergences import reasons
        >>> reasons()[1][0]
        'energy'
    """
    return {int(code): (name, text) for code, name, text in _backend.core().divergence_reasons()}


def code_of(name):
    return next(c for c, (n, _) in reasons().items() if n == name)


def with_reasons(stats):
    """``stats`` with a ``divergence_reason`` array: as recorded, or, for a run saved before causes were
    recorded, 'unrecorded' where it diverged."""
    if "divergence_reason" in stats or "diverging" not in stats:
        return stats
    out = dict(stats)
    out["divergence_reason"] = np.where(np.asarray(stats["diverging"], bool), code_of("unrecorded"), 0).astype(np.uint8)
    return out


def counts(stats):
    """{cause name: number of draws} over the divergent draws of ``stats`` (a Result's sample_stats)."""
    codes = np.asarray(with_reasons(stats)["divergence_reason"]).ravel()
    found, n = np.unique(codes[codes != 0], return_counts=True)
    names = reasons()
    return {names.get(int(c), (f"code {int(c)}", ""))[0]: int(k) for c, k in zip(found, n)}


def message(stats):
    """The divergence warning's text, or None when no draw diverged: the count, by cause, and what to try."""
    by = counts(stats)
    if not by:
        return None
    n_total = np.asarray(stats["diverging"]).size
    n_div = sum(by.values())
    names = {n: t for n, t in reasons().values()}
    causes = "; ".join(f"{k} {name} ({names.get(name, '')})" for name, k in sorted(by.items(), key=lambda x: -x[1]))
    advice = " ".join(dict.fromkeys(ADVICE.get(name, ADVICE["energy"]) for name in by))
    return f"{n_div} of {n_total} draws ended in a divergence: {causes}. The posterior may be biased. {advice}"


__all__ = ["reasons", "counts", "message", "with_reasons", "ADVICE"]
