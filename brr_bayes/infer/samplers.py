"""Samplers as typed objects with their options: ``bb.NUTS``, ``bb.ChEES`` and ``bb.MEADS``.

Each is a row of the C++ sampler registry (csrc/infer/registry.cpp), which names every option, holds its
default and checks every value, once: making one checks the options given, and ``.options`` shows them all
with the defaults filled in. Pass one as ``bb.sample(model, sampler=bb.ChEES(max_leapfrog=500), chains=64)``;
a name (``sampler="chees"``) is that sampler with its defaults. An option the sampler does not take is
refused by name, never ignored.
"""
from __future__ import annotations

import numpy as np

from .. import _backend


class Sampler:
    """A sampler and the options given for it; see bb.NUTS, bb.ChEES and bb.MEADS.

    Example:
        >>> import brr_bayes as bb
        >>> bb.ChEES(max_leapfrog=200) == bb.ChEES(max_leapfrog=200.0)
        True
    """
    name = ""

    def __init__(self, **options):
        check_kinds(options)
        self.given = {k: v for k, v in options.items() if v is not None}
        self.options = dict(_backend.core().sampler_options(self.name, self.given))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.options.items())})"

    def __eq__(self, other):
        return type(self) is type(other) and self.options == other.options

    def __hash__(self):
        return hash((self.name, tuple(sorted(self.options.items()))))


class NUTS(Sampler):
    """Stan's NUTS with its windowed warm-up (the default sampler), as ``bb.sample`` documents it.

    Options: ``target_accept`` (the acceptance statistic warm-up tunes the step size to), ``max_treedepth``,
    ``step_size`` (the first one; warm-up tunes it), ``init_buffer``, ``term_buffer``, ``base_window`` (Stan's
    warm-up windows), ``metric`` ('diag', 'dense', 'low_rank') and ``adapt`` ('stan', 'fisher', 'nutpie').

    Example:
        >>> import brr_bayes as bb
        >>> s = bb.NUTS(target_accept=0.95, metric="dense")
        >>> s.options["target_accept"], s.options["max_treedepth"], s.options["adapt"]
        (0.95, 10, 'stan')
    """
    name = "nuts"


class ChEES(Sampler):
    """ChEES-HMC (Hoffman, Radul & Sountsov 2021): many chains in lock-step sharing a step size, a jittered
    trajectory length and a diagonal metric learned across them.

    Options: ``target_accept`` (the harmonic-mean acceptance its step size is tuned to; the paper's 0.651),
    ``step_size`` (the first one), ``max_leapfrog`` (a trajectory's leapfrog steps at most), ``adam_rate``
    (Adam's learning rate on the log trajectory length) and ``metric_freeze`` (the fraction of warm-up after
    which the metric stays fixed).

    Example:
        >>> import brr_bayes as bb
        >>> bb.ChEES(max_leapfrog=300).options["max_leapfrog"], bb.ChEES().options["target_accept"]
        (300, 0.651)
    """
    name = "chees"


class MEADS(Sampler):
    """MEADS (Hoffman & Sountsov 2022): generalized HMC whose step size, damping and diagonal preconditioner
    each fold of chains learns from another fold.

    Options: ``folds`` (chains must be a multiple of it, at least two folds' worth), ``step_multiplier``
    (eps = step_multiplier / sqrt(the largest eigenvalue of the preconditioned gradients' covariance)) and
    ``divergence`` (the energy error that counts as a divergence).

    Example:
        >>> import brr_bayes as bb
        >>> bb.MEADS(folds=8).options["folds"]
        8
    """
    name = "meads"


def check_kinds(options):
    """Python's types of given options (None: not given): metric and adapt names, every other a number; their
    values are the registry's to check."""
    for name, v in options.items():
        if v is None:
            continue
        if name in ("metric", "adapt"):
            if not isinstance(v, str):
                raise ValueError(f"{name} must be a name (a str), got {v!r}")
        elif isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a number, got {v!r}")


def choice(sampler):
    """(name, options given) of ``bb.sample``'s ``sampler=``: a registry name or a Sampler."""
    if isinstance(sampler, Sampler):
        return sampler.name, dict(sampler.given)
    if not isinstance(sampler, str):
        raise ValueError(f"sampler must be a name ('nuts', 'chees', 'meads') or a bb.NUTS, bb.ChEES or bb.MEADS, "
                         f"got {sampler!r}")
    return sampler, {}


def merged(given, **flat):
    """The options of ``sampler=`` with bb.sample's own option arguments (target_accept=, ...) added; one given
    both ways with two values is refused."""
    flat = {k: v for k, v in flat.items() if v is not None}
    for k in sorted(set(flat) & set(given)):
        if flat[k] != given[k]:
            raise ValueError(f"{k} is given twice, {given[k]!r} in sampler= and {k}={flat[k]!r}: give it once")
    return {**given, **flat}
