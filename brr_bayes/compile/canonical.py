"""Canonical form of an expression graph, computed before fusion, compression and lowering.

However a modeller writes a model (``sigma * z[idx]`` or ``(sigma * z)[idx]``, a row-level ``X @ beta``
or ``(Z @ beta)[state]``), the program that runs should be the same. Each pass below is a function of
one node whose arguments are already canonical; it returns a canonical replacement or None. The
Canonicalizer applies them bottom-up (iteratively), then interns every node by its structure, which is
common-subexpression elimination: two equal expressions built separately become one node and one slot.

Passes (each can be switched off through CompileOptions.passes):
- fold_constants: an operation whose inputs are all data is computed once, now.
- simplify: logit(inv_logit(x)), log(exp(x)) and -(-x) are x (``p=inv_logit(eta)`` and
  ``mu=exp(eta)`` reach the likelihood as eta; exact in real arithmetic, and more accurate in floating
  point); x * 1 and x + 0 with data of ones or zeros are x.
- compose_gathers: x[i][j] -> x[i[j]], and a gather from a concatenation that reads one part only -> a
  gather from that part (stacked coefficient tables, transposes, reshapes of indexed values).
- select_rows: a product with a data matrix (dense or CSR) holding at most one nonzero per row, an
  indicator or one-hot design, is a gather times a data column: ``H @ a`` -> ``a[county]``.
- split_row_sums: a sum over a short axis of a row-wise array, ``(X * beta[c]).sum(axis=1)`` with p <= 16
  columns, becomes the sum of its p columns, each a row-wise vector the other passes can factor and the
  linear predictor can fuse.
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
from ..model.expr import ELEMENTWISE, Const, Op, gather, postorder
from .evaluate import Evaluator
from .options import CompileOptions
from .rows import describe, distinct_rows, restrict, row_children, row_leaves

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
        self.unfactorable = set()  # ids of nodes factor_rows declined: their parents cannot factor either
        self._passes = [p for p in (simplify, compose_gathers, select_rows, split_row_sums, push_through_gather,
                                    factor_rows)
                        if p.__name__ in self.options.passes]

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
_FOLDABLE = ("unary", "binary", "elementwise", "gather", "reshape", "matmul", "sum")


def fold_constants(node):
    """A data-only operation as data (the expression builders fold most; rewrites can expose more), computed
    by the one numpy interpreter of the graph (compile/evaluate.py) at a single point."""
    if node.kind not in _FOLDABLE or not all(isinstance(a, Const) for a in node.args):
        return None
    return Const(Evaluator({}, 1)(node)[0])


_INVERSES = {ops.LOGIT: ops.INV_LOGIT, ops.LOG: ops.EXP, ops.NEG: ops.NEG}


def _is_data(e, value):
    return isinstance(e, Const) and type(e) is Const and np.all(e.value == value)


def simplify(C, node):
    """f(g(x)) -> x where f undoes g on the whole real line; x * 1 and x + 0 -> x."""
    if node.kind == "binary":
        code, (a, b) = node.attrs["code"], node.args
        unit = {ops.MUL: 1.0, ops.ADD: 0.0}.get(code)
        for d, x in ((a, b), (b, a)):
            if unit is not None and x.shape == node.shape and _is_data(d, unit):
                C.rewrote("simplify", f"{describe(node)} by data of {unit:g}s replaced by its other operand")
                return x
        return None
    if node.kind != "unary" or node.attrs["code"] not in _INVERSES:
        return None
    (x,) = node.args
    if isinstance(x, Op) and x.kind == "unary" and x.attrs["code"] == _INVERSES[node.attrs["code"]] \
            and x.args[0].shape == node.shape:
        C.rewrote("simplify", f"{describe(node)} of {describe(x)} replaced by its argument")
        return x.args[0]
    return None


def compose_gathers(C, node):
    """x[i][j] -> x[i[j]]; concat(parts)[j] with j inside one part -> part[j - offset]."""
    if node.kind != "gather":
        return None
    (src,) = node.args
    idx = node.attrs["index"]
    while isinstance(src, Op) and src.kind == "reshape":
        src = src.args[0]  # a reshape keeps flat positions
    if _is_gather(src):
        C.rewrote("compose_gathers", f"gather of a gather ({describe(src)}) read through one index")
        return C(gather(src.args[0], src.attrs["index"][idx].reshape(node.shape)))
    if isinstance(src, Op) and src.kind == "concat" and idx.size:
        ends = np.cumsum([a.size for a in src.args])
        lo, hi = int(idx.min()), int(idx.max())
        part = int(np.searchsorted(ends, lo, side="right"))
        start = int(ends[part - 1]) if part else 0
        if hi < ends[part]:
            C.rewrote("compose_gathers", f"gather from one part of a concatenation read from that part")
            return C(gather(src.args[part], (idx - start).reshape(node.shape)))
    return None


def _one_per_row(node):
    """(column, value) per row when the data matrix of a matmul/csr node has at most one nonzero in
    every row (value 0 for empty rows), else None."""
    A = node.attrs["matrix"]
    if node.kind == "csr":
        counts = np.diff(A.indptr)
        if np.any(counts > 1):
            return None
        col, val = np.zeros(A.shape[0], dtype=np.int64), np.zeros(A.shape[0])
        rows = np.flatnonzero(counts)
        col[rows], val[rows] = A.indices[A.indptr[rows]], A.data[A.indptr[rows]]
        return col, val
    nz = A != 0
    if np.any(nz.sum(axis=1) > 1):
        return None
    col = np.argmax(nz, axis=1)
    return col, A[np.arange(A.shape[0]), col]


def select_rows(C, node):
    """X @ b with at most one nonzero per row of the data matrix X -> X's values times b[column]."""
    if node.kind not in ("matmul", "csr") or node.args[0].ndim != 1 or node.ndim != 1:
        return None
    picked = _one_per_row(node)
    if picked is None:
        return None
    col, val = picked
    out = gather(node.args[0], col)
    if not np.all(val == 1.0):
        out = Op("binary", [Const(val), out], node.shape, code=ops.MUL)
    C.rewrote("select_rows", f"{describe(node)} with one nonzero per row of its data matrix written as a gather")
    return C(out)


MAX_SPLIT_COLUMNS = 16


def split_row_sums(C, node):
    """A scatter-sum in which every output sums p <= 16 inputs of a row-wise array -> a sum of p vectors."""
    if node.kind != "scatter" or node.size < MIN_ROWS:
        return None
    (x,) = node.args
    n, total = node.size, x.size
    if total % n or not 1 < total // n <= MAX_SPLIT_COLUMNS:
        return None
    p = total // n
    index = node.attrs["index"]
    if np.any(np.bincount(index, minlength=n) != p):
        return None
    cols, _ = row_leaves(x, total)
    if cols is None:
        return None
    positions = np.argsort(index, kind="stable").reshape(n, p)  # row i of the output sums x at positions[i]
    out = None
    for j in range(p):
        part = restrict(x, total, positions[:, j])
        part = part if part.shape == node.shape else Op("reshape", [part], node.shape)
        out = part if out is None else Op("binary", [out, part], node.shape, code=ops.ADD)
    C.rewrote("split_row_sums", f"sum over {p} columns of {describe(x)} written as a sum of {p} row vectors")
    return C(out)


def _is_gather(e):
    return isinstance(e, Op) and e.kind == "gather"


def push_through_gather(C, node):
    """f(a[idx], b[idx], s) -> f(a[u], b[u], s)[inv]: the elementwise op runs once per used entry."""
    if node.kind not in ELEMENTWISE or node.size < 2:
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


def _fused_term(node):
    """data column * gather or data column * scalar: a term the linear predictor runs at full speed."""
    if node.kind != "binary" or node.attrs["code"] != ops.MUL:
        return False
    a, b = node.args
    for d, x in ((a, b), (b, a)):
        if isinstance(d, Const) and d.size == node.size and (x.size == 1 or _is_gather(x)):
            return True
    return False


def factor_rows(C, node):
    """A row-wise non-additive vector over repeated data rows -> computed per distinct row, gathered back."""
    n = node.size
    if n < MIN_ROWS or node.ndim != 1:
        return None
    if any(id(a) in C.unfactorable for a in row_children(node, n)):
        C.unfactorable.add(id(node))  # a parent has the rows (and leaves) of its child, and more
        return None
    if _fused_term(node):
        return None
    if node.kind == "matmul":
        if node.args[0].ndim != 1:
            return None
    elif node.kind not in ELEMENTWISE or node.attrs["code"] in (ops.ADD, ops.SUB):
        return None
    cols, why = row_leaves(node, n)
    if cols is None:
        C.unfactorable.add(id(node))
        if n >= 1000:
            C.note("factor_rows", f"{describe(node)} is evaluated row by row: {why}")
        return None
    if not cols:
        return None
    first, inv = distinct_rows(cols, n)
    if len(first) > C.options.factor_max_fraction * n:
        C.unfactorable.add(id(node))
        if n >= 1000 and len(first) < n:
            C.note("factor_rows", f"{describe(node)} is evaluated row by row: {len(first):,} of its {n:,} rows "
                                  f"are distinct (factoring pays below {C.options.factor_max_fraction:.0%})")
        return None
    inner = restrict(node, n, first)
    C.rewrote("factor_rows", f"{describe(node)} computed over its {len(first):,} distinct data rows, then gathered")
    return C(gather(inner, inv.reshape(node.shape)))
