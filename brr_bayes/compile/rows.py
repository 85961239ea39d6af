"""Row-level analysis shared by the factoring pass (canonical.py) and likelihood compression.

An expression of n values is *row-wise* when its value at position i depends on i only through per-row
data: the index arrays of gathers, data columns, and the rows of data matrices (``X @ beta``). Positions
whose data are equal then hold equal values, so the expression can be computed once per distinct row
and gathered back, exactly. Walks here are iterative (see expr.postorder).
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..model.core import FreeRV
from ..model.expr import ELEMENTWISE, Const, Op, gather, postorder

_CODE_LIMIT = 1 << 40  # re-number combined row codes past this, so products of level counts never overflow


def _is_row_matmul(e, n):
    return isinstance(e, Op) and e.kind == "matmul" and e.args[0].ndim == 1 and e.attrs["matrix"].shape[0] == n


def describe(e):
    """A short human name for an expression node (used in explain() and decline notes)."""
    if isinstance(e, FreeRV):
        return f"parameter '{e.name}' {e.shape}"
    if isinstance(e, Const):
        return f"data {e.shape}"
    if isinstance(e, Op):
        name = ops.name(e.attrs["code"]) if "code" in e.attrs else e.kind
        return f"{name} {e.shape}"
    return type(e).__name__


def row_children(e, n):
    """The arguments through which a row-wise node of n values depends on the row."""
    if e.size != n or not isinstance(e, Op) or e.kind not in ELEMENTWISE + ("reshape",):
        return ()
    return tuple(a for a in e.args if a.size == n)


def row_leaves(e, n):
    """(list of per-row data columns, None) for a row-wise expression of n values, or (None, reason)
    naming what else it depends on."""
    cols = []
    for node in postorder([e], children=lambda x: row_children(x, n)):
        if node.size != n:
            continue
        if isinstance(node, Const):
            cols.append(np.ravel(node.value))
        elif isinstance(node, Op) and node.kind == "gather":
            cols.append(node.attrs["index"])
        elif _is_row_matmul(node, n):
            cols.extend(node.attrs["matrix"].T)
        elif not (isinstance(node, Op) and node.kind in ELEMENTWISE + ("reshape",)):
            return None, f"its rows depend on {describe(node)}, which is not data"
    return cols, None


def distinct_rows(cols, n):
    """(first, inverse): positions of the first row of each distinct combination of the columns, in
    order of combination, and each row's combination number (inverse[first] == arange)."""
    code = np.zeros(n, dtype=np.int64)
    bound = 1
    for c in cols:
        levels, inv = np.unique(np.asarray(c), return_inverse=True)
        if bound * len(levels) >= _CODE_LIMIT:
            _, code = np.unique(code, return_inverse=True)
            bound = int(code.max()) + 1 if n else 1
        code = code * len(levels) + inv.ravel()
        bound *= len(levels)
    _, first, inv = np.unique(code, return_index=True, return_inverse=True)
    return first, inv.ravel()


def restrict(e, n, rows, make=None):
    """The row-wise expression e (n values) evaluated only at ``rows``: a flat expression of len(rows)
    values. ``make(kind, args, shape, attrs)`` builds new operation nodes (default: a plain Op)."""
    make = make or (lambda kind, args, shape, attrs: Op(kind, args, shape, **attrs))
    k = len(rows)
    out = {}
    for node in postorder([e], children=lambda x: row_children(x, n)):
        if node.size != n:
            continue
        if isinstance(node, Const):
            r = Const(np.ravel(node.value)[rows])
        elif node.kind == "gather":
            r = gather(node.args[0], node.attrs["index"][rows])
        elif node.kind == "matmul":
            r = make("matmul", node.args, (k,), dict(node.attrs, matrix=node.attrs["matrix"][rows]))
        elif node.kind == "reshape":
            r = out[id(node.args[0])]
        else:
            args = [out[id(a)] if a.size == n else a for a in node.args]
            r = make(node.kind, args, (k,), node.attrs)
        out[id(node)] = r
    return out[id(e)]
