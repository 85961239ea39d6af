"""Warm-started refits: a new fit of a model (on new or grown data) that starts where an earlier fit of it
ended, with the metric and step size it adapted and each chain's last position, so that a short warm-up
(a step-size re-tune and a metric refresh) replaces the long one.

Parameters are matched by name through the parameter layout every fit records (``layout()``). A
parameter may grow or shrink along its dims (a new day of a random walk, a new poll house): coordinates
are matched by their coords labels where both fits have them, else by position; a new coordinate starts
at its nearest old neighbour's value with the parameter's median metric entry, a removed one is dropped,
and each is named in a message. Anything else (a parameter added or removed, a changed constraint, a
changed number of dims, resizing a parameter whose constraint is not elementwise) is refused by name.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .result import Result

WARM_TUNE = 150          # warm-up iterations of a warm start when tune= is not given
PRIOR_DRAWS = 500        # the earlier metric's weight in each metric estimate, in draws (Stan's last window of a 1,000-iteration warm-up)
ELEMENTWISE = ("identity", "lower", "upper", "interval", "param_bounds")   # transforms that act per element


def layout(model):
    """The parameter layout a fit records in its config: per free parameter its name, shape, dims, coords
    labels, constraint and place in the flat unconstrained vector."""
    rows = []
    for rv in model.free_rvs:
        off, usize = model.compiled.layout[rv]
        dims = list(rv.dims) if rv.dims else None
        coords = [[str(v) for v in model.coords[d]] for d in rv.dims] if rv.dims else None
        rows.append(dict(name=rv.name, shape=list(rv.shape), dims=dims, coords=coords, offset=int(off),
                         size=int(usize), transform=_constraint(rv.transform)))
    return rows


def _constraint(t):
    return f"{t.name}{list(t.dp()) if t.dp() else ''}"


class WarmStart:
    """What a warm start hands the run: per-chain starting points, a step size, the diagonal inverse metric
    and its weight, and the messages that say what was matched, grown or dropped."""

    def __init__(self, inits, step_size, inv_metric, notes, source, dense_inv_metric=None):
        self.inits, self.step_size, self.inv_metric, self.notes, self.source = inits, step_size, inv_metric, notes, source
        # the earlier fit's dense inverse metric (the chains' mean, d x d) when it had one and the
        # parameters kept their layout; a dense run starts from it, any other from the diagonal
        self.dense_inv_metric = dense_inv_metric


def plan(model, previous, chains) -> WarmStart:
    """Match ``previous`` (a Result or the path of a saved one) to ``model``; see the module's docstring."""
    source = None
    if not isinstance(previous, Result) and isinstance(getattr(previous, "result", None), Result):
        previous = previous.result            # a bb.glm fit
    if isinstance(previous, (str, os.PathLike)):
        source = os.path.abspath(str(previous))
        previous = Result.load(previous)      # the checksum is verified: a damaged file raises ResultFileError
    if not isinstance(previous, Result):
        raise TypeError(f"warm_start must be a bb.Result or the path of a saved one, got {type(previous).__name__}")
    old_layout = previous.config.get("layout")
    if not old_layout:
        raise ValueError("warm_start: this result does not record its parameter layout (a fit by brr_bayes before "
                         "warm starts, or not by bb.sample); fit once afresh, then warm start from that fit")
    states = [s for s in previous.sampler_states if s]
    if not states:
        raise ValueError("warm_start: this result holds no sampler states to start from (it was not made by "
                         "bb.sample); fit afresh")
    old = {row["name"]: row for row in old_layout}
    new_rvs = {rv.name: rv for rv in model.free_rvs}
    added, removed = sorted(set(new_rvs) - set(old)), sorted(set(old) - set(new_rvs))
    if added or removed:
        raise ValueError("warm_start: the model's parameters differ from the earlier fit's: "
                         + "; ".join(([f"new {added}"] if added else []) + ([f"gone {removed}"] if removed else []))
                         + ". A warm start reuses a fit of the same model (its parameters may grow along their "
                           "dims); fit this model afresh")
    old_dim = sum(row["size"] for row in old_layout)
    positions = [_flat(s["position"], old_dim, "position") for s in states]
    minv = np.exp(np.mean([np.log(_diagonal(s["inv_metric"], old_dim)) for s in states], axis=0))
    step = float(np.median([float(s["step_size"]) for s in states]))
    new_pos = [np.zeros(model.dim) for _ in range(chains)]
    new_minv = np.ones(model.dim)
    notes = []
    for name, rv in new_rvs.items():
        o = old[name]
        off, usize = model.compiled.layout[rv]
        rows, minv_part, note = _match(o, rv, model)
        new_minv[off:off + usize] = minv[o["offset"]:o["offset"] + o["size"]][rows] if rows is not None \
            else minv[o["offset"]:o["offset"] + o["size"]]
        if note:
            notes.append(note)
            new_minv[off:off + usize] = np.where(minv_part, new_minv[off:off + usize],
                                                 np.median(minv[o["offset"]:o["offset"] + o["size"]]))
        for c in range(chains):
            part = positions[c % len(positions)][o["offset"]:o["offset"] + o["size"]]
            new_pos[c][off:off + usize] = part[rows] if rows is not None else part
    return WarmStart(new_pos, step, new_minv, notes, source, _dense(states, old_layout, model, notes))


def _dense(states, old_layout, model, notes):
    """The chains' mean dense inverse metric (d * d values, symmetric) when the earlier fit adapted one and
    the model's layout is the recorded one (same parameters, order, sizes and coords labels: a relabelled
    coordinate would move its rows and columns); a mean of positive definite matrices is one. None
    otherwise, with a note when a dense metric is dropped to its diagonal."""
    n = sum(row["size"] for row in old_layout)
    mats = [np.asarray(s["inv_metric"], dtype=np.float64).ravel() for s in states]
    if any(m.size != n * n for m in mats):
        return None
    if layout(model) != old_layout:
        notes.append("warm_start: the earlier fit's dense metric is reused by its diagonal only (the parameters' "
                     "layout changed: grown, shrunk, relabelled or reordered)")
        return None
    m = np.mean(mats, axis=0).reshape(n, n)
    return ((m + m.T) / 2).ravel()     # the estimates are symmetric up to the rounding of their sums


def _flat(values, n, what):
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size not in (n, n * n) or not np.all(np.isfinite(a)):
        raise ValueError(f"warm_start: a saved chain state's {what} does not fit the recorded layout; the result is "
                         "damaged or not from bb.sample")
    return a


def _diagonal(inv_metric, n):
    a = _flat(inv_metric, n, "inverse metric")
    d = a if a.size == n else a.reshape(n, n).diagonal()      # a dense metric: its diagonal
    if np.any(d <= 0):
        raise ValueError("warm_start: a saved chain state's inverse metric is not positive; the result is damaged")
    return d


def _match(o, rv, model):
    """(index of the old element for each new one or None when the shape is unchanged, mask of new elements
    that had an old one, a message or None) for parameter rv against its old layout row o."""
    name, shape, old_shape = rv.name, tuple(rv.shape), tuple(o["shape"])
    constraint = _constraint(rv.transform)
    if constraint != o["transform"]:
        raise ValueError(f"warm_start: '{name}' was constrained as {o['transform']} and is {constraint} now; a warm "
                         "start reuses a fit of the same model: fit afresh")
    new_labels = [[str(v) for v in model.coords[d]] for d in rv.dims] if rv.dims else None
    old_labels = o.get("coords")
    if shape == old_shape and (not new_labels or not old_labels or new_labels == old_labels):
        return None, None, None
    if len(shape) != len(old_shape):
        raise ValueError(f"warm_start: '{name}' had shape {old_shape} and has {shape} now (another number of dims); "
                         "fit afresh")
    if rv.transform.name not in ELEMENTWISE:
        raise ValueError(f"warm_start: '{name}' changed its coordinates ({old_shape} -> {shape}), and its constraint "
                         f"({rv.transform.name}) ties its elements together, so its old values do not carry over "
                         "element by element; fit afresh")
    per_axis, grown, dropped = [], [], []
    for ax, (n_new, n_old) in enumerate(zip(shape, old_shape)):
        if new_labels and old_labels:
            where = {label: i for i, label in enumerate(old_labels[ax])}
            idx = [where.get(label) for label in new_labels[ax]]
            kept = {i for i in idx if i is not None}
            dropped += [old_labels[ax][i] for i in range(n_old) if i not in kept]
            grown += [new_labels[ax][j] for j, i in enumerate(idx) if i is None]
        else:
            idx = [i if i < n_old else None for i in range(n_new)]
            dropped += [f"#{i}" for i in range(n_new, n_old)]
            grown += [f"#{j}" for j in range(n_old, n_new)]
        per_axis.append(idx)
    had = np.ones(shape, bool)
    nearest = []
    for ax, idx in enumerate(per_axis):
        known = [j for j, i in enumerate(idx) if i is not None]
        if not known:
            raise ValueError(f"warm_start: '{name}' shares no coordinates with the earlier fit along axis {ax}; fit "
                             "afresh")
        fill = []
        for j, i in enumerate(idx):
            if i is None:       # the old value of its nearest neighbour with one
                fill.append(idx[min(known, key=lambda k: (abs(k - j), -k))])
                sl = [slice(None)] * len(shape)
                sl[ax] = j
                had[tuple(sl)] = False
            else:
                fill.append(i)
        nearest.append(np.asarray(fill))
    rows = np.ravel_multi_index(np.ix_(*nearest), old_shape).ravel()
    parts = []
    if grown:
        parts.append(f"{len(grown)} new coordinate{'s' * (len(grown) > 1)} ({', '.join(grown[:5])}"
                     f"{', ...' if len(grown) > 5 else ''}) start from their nearest neighbour's value")
    if dropped:
        parts.append(f"{len(dropped)} dropped ({', '.join(dropped[:5])}{', ...' if len(dropped) > 5 else ''})")
    note = f"'{name}' {old_shape} -> {shape}: " + "; ".join(parts) if parts else None
    return rows, had.ravel(), note


def announce(warm):
    """Say what the warm start matched, grew and dropped (a UserWarning each, so a pipeline's log has them)."""
    for note in warm.notes:
        warnings.warn(f"warm_start: {note}", UserWarning, stacklevel=4)
