"""Canonical form of an expression graph, computed before fusion, compression and lowering.

However a modeller writes a model (``sigma * z[idx]`` or ``(sigma * z)[idx]``, a row-level ``X @ beta``
or ``(Z @ beta)[state]``), the program that runs should be the same. Each pass below is a function of
one node whose arguments are already canonical; it returns a canonical replacement or None. The
Canonicalizer applies them bottom-up (iteratively), then interns every node by its structure, which is
common-subexpression elimination: two equal expressions built separately become one node and one slot.

Passes (each can be switched off through CompileOptions.passes):
- fold_constants: an operation whose inputs are all data is computed once, now.
- push_through_gather: f(a[idx], b[idx], s) with scalars s -> f(a[u], b[u], s)[inv] over the u = unique(idx)
  entries actually used (f(a, b, s)[idx] when idx uses them all).
- factor_rows: a row-wise, non-additive node (its value at row i depends on i only through per-row data:
  gather indices, data columns, data-matrix rows) whose data rows repeat is computed once per distinct
  row and gathered back: ``Zs @ beta`` with 50 distinct rows of Zs -> ``(U @ beta)[k]``. Sums are left
  alone so that they stay sums of gathers for the fused linear predictor.
- cse: intern by structure (off: intern by identity only).
Every rewrite is exact: it evaluates the same operations on the same numbers, only fewer times.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .. import ops
from ..expr import Const, Op, gather, postorder
from .options import CompileOptions
from .rows import describe, distinct_rows, restrict, row_leaves

MIN_ROWS = 64  # below this a rewrite saves less than the extra gather costs


class Canonicalizer:
    """Maps expressions to their canonical form; call it on any expression (memoised)."""

    def __init__(self, options: CompileOptions | None = None):
        self.options = options or CompileOptions()
        self._memo = {}      # id(node) -> canonical node (canonical nodes map to themselves)
        self._table = {}     # structural key -> canonical node
        self._keep = []      # nodes whose id() keys the memo must stay alive
        self._digests = {}   # id(array) -> digest
        self.rewrites = []   # (pass, message), for explain()
        self.declined = []   # (pass, message), for explain()
        self._passes = [p for p in (push_through_gather, factor_rows) if p.__name__ in self.options.passes]

    def __call__(self, e):
        hit = self._memo.get(id(e))
        if hit is not None:
            return hit
        for node in postorder([e], done=lambda n: id(n) in self._memo):
            self._keep.append(node)
            self._memo[id(node)] = self._canonical(node)
        return self._memo[id(e)]

    # building ---------------------------------------------------------------------------------
    def _canonical(self, node):
        if not isinstance(node, Op):
            return self._intern(node)
        args = [self._memo[id(a)] for a in node.args]
        if any(a is not b for a, b in zip(args, node.args)):
            node = Op(node.kind, args, node.shape, **node.attrs)
        if "fold_constants" in self.options.passes:
            folded = fold_constants(node)
            if folded is not None:
                return self._intern(folded)
        for rewrite in self._passes:
            out = rewrite(self, node)
            if out is not None:
                return out
        return self._intern(node)

    def _intern(self, node):
        key = self._key(node) if "cse" in self.options.passes else ("id", id(node))
        canon = self._table.setdefault(key, node)
        self._memo[id(node)] = canon
        self._memo[id(canon)] = canon
        self._keep.append(node)
        return canon

    def note(self, pass_name, message):
        self.declined.append((pass_name, message))

    def rewrote(self, pass_name, message):
        self.rewrites.append((pass_name, message))

    # structural keys ----------------------------------------------------------------------------
    def digest(self, arr):
        d = self._digests.get(id(arr))
        if d is None:
            a = np.ascontiguousarray(arr)
            d = (hashlib.blake2b(a.tobytes(), digest_size=16).hexdigest(), a.dtype.str, a.shape)
            self._digests[id(arr)] = d
            self._keep.append(arr)
        return d

    def _key(self, node):
        if isinstance(node, Const) and type(node) is Const:
            return ("const", node.shape, self.digest(node.value))
        if not isinstance(node, Op):
            return ("id", id(node))
        return (node.kind, node.shape, tuple(self._attr(k, v) for k, v in sorted(node.attrs.items())),
                tuple(id(a) for a in node.args))

    def _attr(self, k, v):
        if isinstance(v, np.ndarray):
            return k, self.digest(v)
        if hasattr(v, "indptr"):  # scipy.sparse CSR
            return k, (self.digest(v.data), self.digest(v.indices), self.digest(v.indptr), v.shape)
        if isinstance(v, (list, tuple)):
            return k, tuple(v)
        return k, v


# passes -----------------------------------------------------------------------------------------
_FOLDABLE = ("unary", "binary", "gather", "reshape", "matmul", "sum")


def fold_constants(node):
    """A data-only operation as data (the expression builders fold most; rewrites can expose more)."""
    if node.kind not in _FOLDABLE or not all(isinstance(a, Const) for a in node.args):
        return None
    v = [np.asarray(a.value, dtype=np.float64) for a in node.args]
    k, a = node.kind, node.attrs
    if k == "unary":
        out = ops.numpy_unary(a["code"], v[0])
    elif k == "binary":
        out = ops.numpy_binary(a["code"], v[0], v[1])
    elif k == "gather":
        out = v[0].ravel()[a["index"]]
    elif k == "matmul":
        out = a["matrix"] @ v[0]
    elif k == "sum":
        out = v[0].sum()
    else:
        out = v[0]
    return Const(np.reshape(out, node.shape))


def _is_gather(e):
    return isinstance(e, Op) and e.kind == "gather"


def push_through_gather(C, node):
    """f(a[idx], b[idx], s) -> f(a[u], b[u], s)[inv]: the elementwise op runs once per used entry."""
    if node.kind not in ("unary", "binary") or node.size < 2:
        return None
    wide = [a for a in node.args if a.size > 1]
    if not all(_is_gather(a) for a in wide):
        return None
    if len({C.digest(a.attrs["index"]) for a in wide}) != 1:
        return None
    idx = wide[0].attrs["index"]
    used, inv = np.unique(idx, return_inverse=True)
    if len(used) > C.options.factor_max_fraction * idx.size:
        return None
    args = [a if a.size <= 1 else gather(a.args[0], used) for a in node.args]
    inner = Op(node.kind, args, (len(used),), **node.attrs)
    C.rewrote("push_through_gather", f"{describe(node)} of gathered values computed once per group "
                                     f"({len(used):,} values) before the gather")
    return C(gather(inner, inv.reshape(node.shape)))


def factor_rows(C, node):
    """A row-wise non-additive node over repeated data rows -> computed per distinct row, gathered back."""
    n = node.size
    if n < MIN_ROWS:
        return None
    if node.kind == "matmul":
        if node.args[0].ndim != 1:
            return None
    elif node.kind not in ("unary", "binary") or node.attrs["code"] in (ops.ADD, ops.SUB):
        return None
    cols, why = row_leaves(node, n)
    if cols is None:
        if n >= 1000:
            C.note("factor_rows", f"{describe(node)} is evaluated row by row: {why}")
        return None
    if not cols:
        return None
    first, inv = distinct_rows(cols, n)
    if len(first) > C.options.factor_max_fraction * n:
        if n >= 1000 and len(first) < n:
            C.note("factor_rows", f"{describe(node)} is evaluated row by row: {len(first):,} of its {n:,} rows "
                                  f"are distinct (factoring pays below {C.options.factor_max_fraction:.0%})")
        return None
    inner = restrict(node, n, first)
    C.rewrote("factor_rows", f"{describe(node)} computed over its {len(first):,} distinct data rows, then gathered")
    return C(gather(inner, inv.reshape(node.shape)))
