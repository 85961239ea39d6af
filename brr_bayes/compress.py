"""Exact compression of Bernoulli/Binomial rows into binomial cells when predictor rows repeat.

The likelihood sum_i [y_i eta_i - n_i log(1 + exp(eta_i))] depends on row i only through eta_i. When
eta is built from per-row data (index arrays and data columns) and parameters, rows with equal data
share eta, so the sum equals sum_c [Y_c eta_c - N_c log(1 + exp(eta_c))] over the distinct rows c.
"""
from __future__ import annotations

import numpy as np

from .expr import Const, Op

MAX_CELL_FRACTION = 0.8  # compress when it removes at least a fifth of the rows


def _row_leaves(e, n, leaves):
    """Collect the per-row data of a row-wise expression of length n; False if e is not row-wise."""
    if e.size == 1:
        return True
    if e.shape != (n,):
        return e.size != n and not _depends_on_rows(e, n)  # a parameter vector used through a gather
    if isinstance(e, Const):
        leaves.append(e.value.ravel())
        return True
    if not isinstance(e, Op):
        return False
    if e.kind == "gather":
        leaves.append(e.attrs["index"])
        return e.args[0].shape != (n,) and _row_leaves(e.args[0], n, [])
    if e.kind in ("unary", "binary"):
        return all(_row_leaves(a, n, leaves) for a in e.args)
    return False


def _depends_on_rows(e, n):
    return any(a.shape == (n,) for a in getattr(e, "args", ()))


def _restrict(e, n, rows, memo):
    """The same expression evaluated only at the given rows."""
    if e.shape != (n,):
        return e
    key = id(e)
    if key in memo:
        return memo[key]
    if isinstance(e, Const):
        out = Const(e.value.ravel()[rows])
    elif e.kind == "gather":
        out = Op("gather", e.args, (len(rows),), index=e.attrs["index"][rows])
    else:
        args = [_restrict(a, n, rows, memo) for a in e.args]
        out = Op(e.kind, args, (len(rows),), **e.attrs)
    memo[key] = out
    return out


def collapse(eta, y, trials):
    """(eta over cells, cell successes, cell trials) or None when compression does not pay."""
    n = y.size
    if eta.shape != (n,) or y.ndim != 1 or n < 64:
        return None
    leaves = []
    if not _row_leaves(eta, n, leaves) or not leaves:
        return None
    key = np.stack([np.asarray(c, dtype=np.float64) for c in leaves] + [np.broadcast_to(trials, n) * 0], axis=1)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    if len(first) > MAX_CELL_FRACTION * n:
        return None
    cells_y = np.bincount(inv, weights=y, minlength=len(first))
    cells_n = np.bincount(inv, weights=np.broadcast_to(trials, n), minlength=len(first))
    return _restrict(eta, n, first, {}), cells_y, cells_n
