"""Lower a Model's expression graph to a C++ Program (slots + ops) once; evaluate it many times.

Every expression is first put in canonical form (canonical.py), so the program depends on what the
model computes, not on how it was written; lowering then fuses sums into LinearPredictor ops and
likelihoods into GlmLpdf ops. Walks are iterative: a graph of any depth compiles.
"""
from __future__ import annotations

import hashlib
from typing import NamedTuple, Optional

import numpy as np

from .. import _backend, ops
from ..model.core import FreeRV
from ..model.expr import Const, Expr, Op, as_expr, is_binary, sum_terms
from ..model.transforms import ExprTransform, Identity
from .canonical import Canonicalizer
from .compress import merge_rows
from .likelihood import lower_likelihood
from .options import CompileOptions
from .rows import describe


class _Fingerprinted:
    """The Program, with every add_* call (op codes, data, index arrays, sizes) fed to a hash: two models
    compile to the same fingerprint only if they are the same program over the same data."""

    def __init__(self, program):
        self._program = program
        self._hash = hashlib.blake2b(digest_size=16)

    def __getattr__(self, name):
        attr = getattr(self._program, name)
        if not name.startswith("add_"):
            return attr

        def call(*args):
            self._hash.update(name.encode())
            for a in args:
                if isinstance(a, _backend.core().Program):   # a function body: its content, not its address
                    self._hash.update(a.to_bytes())
                elif isinstance(a, np.ndarray):
                    self._hash.update(np.ascontiguousarray(a).tobytes())
                else:
                    self._hash.update(repr(a).encode())
            return attr(*args)
        return call

    def hexdigest(self):
        return self._hash.hexdigest()


class Compiler:
    """Walks expressions, giving each a slot in the Program; shared subexpressions are lowered once."""

    def __init__(self, program, layout, options: CompileOptions | None = None):
        self.p = _Fingerprinted(program)
        self.layout = layout  # FreeRV -> (offset, unconstrained size)
        self.options = options or CompileOptions()
        self.canon = Canonicalizer(self.options)
        self._slots = {}
        self._slot_sizes = {}
        self._indices = {}
        self._keep = []       # expressions whose id() keys the memo must stay alive
        self._sums = {}       # id(sum node) -> its terms when lowered as one LinearPredictor
        self.emitted = []     # op codes in emission order (tests check which kernels a model uses)
        self.records = []     # one dict per emitted op, for explain()
        self.notes = []       # (topic, message): fusions and compressions applied or declined, for explain()
        self.context = ""     # the variable being lowered, for notes
        self._functions = {}  # id(Traced) -> function id in the program

    def note(self, topic, message):
        self.notes.append((topic, f"{self.context}: {message}" if self.context else message))

    def op(self, code, inputs, out=-1, idx=(), ip=(), dp=()):
        self.emitted.append(int(code))
        inputs = [int(i) for i in inputs]
        self.records.append(dict(code=int(code), out=int(out), inputs=inputs, ip=[int(i) for i in ip],
                                 idx=[int(i) for i in idx], var=self.context))
        self.p.add_op(int(code), inputs, int(out), [int(i) for i in idx], [int(i) for i in ip],
                      [float(d) for d in dp])

    def index(self, values, bound):
        values = np.ascontiguousarray(values, dtype=np.int64)
        key = (hashlib.blake2b(values.tobytes(), digest_size=16).hexdigest(), values.size, int(bound))
        if key not in self._indices:
            self._indices[key] = self.p.add_index(values, int(bound))
        return self._indices[key]

    def new_slot(self, size, code, inputs, **kw):
        s = self.p.add_slot(int(size))
        self._slot_sizes[s] = int(size)
        self.op(code, inputs, out=s, **kw)
        return s

    def bind(self, e, slot):
        """Lower e as an existing slot (a function body's arguments: views of its input vector)."""
        self._slots[id(e)] = int(slot)
        self._slot_sizes[int(slot)] = e.size
        self._keep.append(e)

    def function(self, traced):
        """The program's id for a traced function (function.py), compiled once as its own body Program."""
        if id(traced) not in self._functions:
            body = _backend.core().Program(traced.in_dim)
            C = Compiler(body, {}, self.options)
            off = 0
            for ph in traced.inputs:
                C.bind(ph, body.add_view(0, off, ph.size))
                off += ph.size
            out = C.slot(traced.output)
            self._functions[id(traced)] = self.p.add_function(body, out)
            self._keep.append(traced)
        return self._functions[id(traced)]

    def slot_size(self, s):
        return self._slot_sizes.get(s)

    def slot(self, e):
        """The Program slot holding expression e (canonicalised first), lowering what it needs."""
        e = self.canon(as_expr(e))
        stack = [e]
        while stack:  # demand-driven and iterative: only what the program needs, at any depth
            node = stack[-1]
            if id(node) in self._slots:
                stack.pop()
                continue
            missing = [d for d in self._deps(node) if id(d) not in self._slots]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            self._slots[id(node)] = s = self._lower(node)
            self._slot_sizes.setdefault(s, node.size)
            self._keep.append(node)
        return self._slots[id(e)]

    def _deps(self, e):
        """The expressions whose slots _lower(e) reads."""
        if not isinstance(e, Op):
            return ()
        parts = self._fused_sum(e)
        if parts is not None:
            return [x for t in parts for x in (t.value, t.data, t.scale) if x is not None]
        return e.args

    def _fused_sum(self, e):
        """The term parts (_linear_terms) of e when it is lowered as one LinearPredictor op, else None.
        Computed once per node: a scaled term's scalar is a new expression, which must keep its slot."""
        if id(e) not in self._sums:
            parts = None
            if self.options.fuse and e.kind == "binary" and e.attrs["code"] == ops.ADD and e.size > 1:
                # which sums fuse is decided on the summands as written (LinearPredictor has no lane kernel:
                # fusing mu + tau * z would send W1's batch lane by lane); a fused one then takes scaled terms
                terms = sum_terms(e)
                if len(terms) >= self.MIN_FUSED_TERMS and (len(terms) > 2 or any(_has_gather(t) for t in terms)):
                    parts = _linear_terms(e)  # a plain a + b is already one pass
            self._sums[id(e)] = parts
        return self._sums[id(e)]

    def _lower(self, e):
        if isinstance(e, SlotRef):
            return e.slot_id
        if isinstance(e, Const):
            return self.p.add_const(np.ascontiguousarray(e.value, dtype=np.float64).ravel())
        if isinstance(e, FreeRV):
            off, usize = self.layout[e]
            view = self.p.add_view(0, off, usize)
            tr = e.transform
            if isinstance(tr, Identity):
                return view
            if isinstance(tr, ExprTransform):   # value and log|J| as expressions of the unconstrained view
                value, logj = tr.forward(SlotRef(view, tr.unconstrained_shape(e.shape)))
                self.op(ops.TARGET_ADD, [self.slot(logj)])
                return self.slot(value)
            return self.new_slot(e.size, tr.code, [view], ip=tr.ip(e.shape), dp=tr.dp())
        if not isinstance(e, Op):
            raise TypeError(f"cannot compile expression node {e!r}")
        k, a = e.kind, e.attrs
        if k == "reshape":
            return self.p.add_view(self.slot(e.args[0]), 0, e.size)
        parts = self._fused_sum(e)
        if parts is not None:
            inputs, idx, ip = self._lower_terms(parts)
            return self.new_slot(e.size, ops.LINEAR_PREDICTOR, inputs, idx=idx, ip=ip)
        args = [self.slot(x) for x in e.args]
        if k in ("unary", "binary", "elementwise"):
            return self.new_slot(e.size, a["code"], args)
        if k == "cholesky":
            return self.new_slot(e.size, ops.CHOLESKY, args, ip=[e.shape[0]])
        if k == "trisolve":
            cols = e.shape[1] if e.ndim == 2 else 1
            return self.new_slot(e.size, ops.TRISOLVE, args, ip=[e.shape[0], cols])
        if k == "lpdf":
            return self.new_slot(e.size, ops.POINTWISE_LPDF, args, ip=[a["code"]])
        if k == "recurrence":
            n = e.shape[1] if e.ndim == 2 else 1
            return self.new_slot(e.size, ops.LINEAR_RECURRENCE, args, ip=[e.shape[0], n])
        if k == "scan":
            return self.new_slot(e.size, ops.SCAN, args, ip=[self.function(a["function"]), a["steps"], a["state"],
                                                            a["inputs"], a["params"]])
        if k == "ode":
            ip = [self.function(a["function"]), e.shape[1], a["params"], e.shape[0], a["method"], a["max_steps"]]
            return self.new_slot(e.size, ops.ODE_SOLVE, args, ip=ip,
                                 dp=[a["t0"], a["rtol"], a["atol"]] + [float(t) for t in a["times"]])
        if k == "hmm":
            return self.new_slot(e.size, ops.HMM_LOGLIK, args, ip=list(e.args[2].shape))
        if k == "gather":
            if a.get("as_view"):   # b[j] of a split X @ b (_matvec_columns): a view of b, no op
                return self.p.add_view(args[0], int(np.asarray(a["index"]).ravel()[0]), e.size)
            return self.new_slot(e.size, ops.GATHER, args, idx=[self.index(a["index"], e.args[0].size)])
        if k == "scatter":
            if a["out_size"] == 1:   # every element into one value: a sum (four accumulators, not one chain)
                return self.new_slot(1, ops.SUM, args)
            return self.new_slot(e.size, ops.SCATTER_ADD, args, idx=[self.index(a["index"], a["out_size"])])
        if k == "sum":
            return self.new_slot(1, ops.SUM, args)
        if k == "axis":
            return self.new_slot(e.size, a["code"], args, ip=a["layout"])
        if k == "concat":
            return self.new_slot(e.size, ops.CONCAT, args)
        if k == "matmul":
            X = a["matrix"]
            m = e.args[0].shape[1] if e.args[0].ndim == 2 else 1
            Xs = self.p.add_const(np.ascontiguousarray(X).ravel())
            return self.new_slot(e.size, ops.DENSE_MATMUL, [Xs] + args, ip=[X.shape[0], X.shape[1], m])
        if k == "csr":
            A = a["matrix"]
            vals = self.p.add_const(np.ascontiguousarray(A.data, dtype=np.float64))
            ptr = self.index(A.indptr, A.nnz + 1)
            col = self.index(A.indices, A.shape[1])
            return self.new_slot(e.size, ops.CSR_MATVEC, [vals] + args, idx=[ptr, col], ip=list(A.shape))
        raise TypeError(f"unknown expression kind '{k}'")


    # fused linear predictor -------------------------------------------------------------------
    MIN_FUSED_TERMS = 2  # two terms pay when one is a gather (radon's a[c] + floor * b[c]: 2.1x faster)

    def merged_rows(self, etas, y):
        """Rows of a row-level likelihood merged by (predictor data, response), with a note for explain();
        None when compression is off or does not pay. The distribution emits its op over the merged rows
        with the counts as row weights."""
        if not self.options.compress:
            return None
        etas = [self.canon(as_expr(e)) for e in etas]
        merged, why = merge_rows(etas, y, self.options.max_cell_fraction)
        if merged is None:
            if why:
                self.note("compress", why)
            return None
        self.note("compress", f"{np.size(y):,} rows merged into {len(merged.first):,} (predictors, response) "
                              "combinations, each weighted by its count")
        return merged

    def likelihood(self, family, eta, y, aux=None, trials=None, const=0.0):
        """Lower a GLM likelihood over rows (merged into cells, fused; see likelihood.py); False when
        the distribution should emit its own op."""
        return lower_likelihood(self, family, eta, y, aux=aux, trials=trials, const=const)

    def glm(self, family, eta, y, aux=None, const=0.0, weights=None, extra=()):
        """Emit one GlmLpdf op (linear predictor and likelihood in one pass) for the response y (data),
        whose linear predictor eta is a sum of gathers, scalars and columns; False (with a note for
        explain()) when eta is not of that form. ``weights``: per-row data for merged Poisson / normal
        cells; ``extra``: the normal cells' (within-cell sum of squares, rows)."""
        if not self.options.glm:
            return False
        eta = self.canon(as_expr(eta))
        what = ops.GLM_FAMILY_NAMES[family]
        if eta.shape != y.shape or y.ndim != 1 or (aux is not None and as_expr(aux).size not in (1, y.size)):
            return False
        parts = _linear_terms(eta)
        if len(parts) > MAX_FUSED_TERMS:
            self.note("glm", f"{what} likelihood not fused with its linear predictor: {len(parts)} terms "
                             f"(at most {MAX_FUSED_TERMS})")
            return False
        if all(t.kind == ops.TERM_DENSE for t in parts):
            self.note("glm", f"{what} likelihood not fused with its linear predictor: no term is a gather, a "
                             f"scalar or a data column times one ({', '.join(describe(t.value) for t in parts[:3])}); "
                             "index group-level values by group ids (a[idx]) to fuse")
            return False
        inputs, idx, ip = self._lower_terms(parts)
        y_pos = len(inputs)
        inputs.append(self.slot(y))
        aux_pos = w_pos = -1
        if aux is not None:
            aux_pos = len(inputs)
            inputs.append(self.slot(as_expr(aux)))
        if weights is not None:
            w_pos = len(inputs)
            inputs.append(self.slot(as_expr(weights)))
        self.op(ops.GLM, inputs, idx=idx, ip=[family, y_pos, aux_pos, w_pos] + ip,
                dp=[float(const)] + [float(v) for v in extra])
        self.records[-1]["rows"] = y.size
        return True

    def _lower_terms(self, parts):
        """(input slots, index positions, 4 ints per term: kind, value input, index position (a scaled
        term: its scalar's input position), data input)."""
        inputs, idx, ip = [], [], []

        def pos(slot):
            if slot not in inputs:
                inputs.append(slot)
            return inputs.index(slot)

        for t in parts:
            d = pos(self.slot(t.data)) if t.data is not None else -1
            if t.gather is not None:
                idx.append(self.index(t.gather.attrs["index"], t.value.size))
                ip += [ops.TERM_GATHER, pos(self.slot(t.value)), len(idx) - 1, d]
            elif t.kind == ops.TERM_SCALED:
                ip += [ops.TERM_SCALED, pos(self.slot(t.value)), pos(self.slot(t.scale)), d]
            else:
                ip += [t.kind, pos(self.slot(t.value)), -1, d]
        return inputs, idx, ip


def evaluate_in_core(e, args):
    """Values of op e (a scan or an ODE solve) over a batch of its arguments (B, *shapes), through the same
    C++ kernels the sampler ran: predictive draws see exactly the sampled model's solution."""
    B = args[0].shape[0]
    sizes = [x.size for x in e.args]
    program = _backend.core().Program(int(sum(sizes)))
    C = Compiler(program, {}, CompileOptions())
    refs, off = [], 0
    for x, size in zip(e.args, sizes):
        refs.append(SlotRef(program.add_view(0, off, size), x.shape))
        off += size
    out = C.slot(Op(e.kind, refs, e.shape, **e.attrs))
    X = np.concatenate([np.asarray(v, dtype=np.float64).reshape(B, -1) for v in args], axis=1)
    return program.eval_slots(np.ascontiguousarray(X), [out])[0].reshape((B,) + e.shape)


class SlotRef(Expr):
    """A leaf already in the program (the unconstrained view of an ExprTransform's variable)."""

    def __init__(self, slot_id, shape):
        super().__init__(shape)
        self.slot_id = int(slot_id)


MAX_FUSED_TERMS = 64   # terms of one GlmLpdf op (csrc/ir/op_codes.hpp kMaxGlmTerms)


class TermParts(NamedTuple):
    """One term of a fused linear predictor, of a kind in ops.TERM_* (csrc/ir/glm.def): gather (value[idx]),
    scalar, dense, or scaled dense (scale * value, both values of the model), each times the data column
    `data` when it is not None."""
    kind: int
    value: Expr
    gather: Optional[Expr] = None
    data: Optional[Expr] = None
    scale: Optional[Expr] = None


def _scaled_parts(t, shape):
    """TermParts(TERM_SCALED, ...) when t is a product of scalars and one full-size vector that is neither data nor a
    gather (at most one data column among the factors: sigma * sqrt(rho) * phi, s * x * v), else None."""
    size = int(np.prod(shape, dtype=np.int64))
    scalars, data, rest = [], None, t
    while is_binary(rest, ops.MUL) and rest.size == size:
        a, b = rest.args
        split = _data_times(rest, size) if data is None else None
        if a.size == 1 or b.size == 1:
            s, rest = (a, b) if a.size == 1 else (b, a)
            scalars.append(s)
        elif split is not None:
            data, rest = split
        else:
            break
    if not scalars or isinstance(rest, Const) or rest.size != size or rest.shape != tuple(shape) \
            or (isinstance(rest, Op) and rest.kind == "gather"):
        return None
    scale = scalars[0]
    for s in scalars[1:]:
        scale = Op("binary", [scale, s], scale.shape, code=ops.MUL)
    return TermParts(ops.TERM_SCALED, rest, None, data, scale)


def _linear_terms(e):
    """The fused linear predictor's term parts of e: its summands, with a scalar times a sum of scaled
    vectors distributed, sigma * (a * u + b * w) -> (sigma a) u + (sigma b) w, so that no full-size
    product or sum is computed before the fused op reads it (W3's convolved BYM2 effect: 4 ops fewer)."""
    summands = sum_terms(e)
    parts = []
    for t in summands:
        parts.extend(_distributed(t, e.shape) or _matvec_columns(t, e.shape) or [_term_parts(t, e.shape)])
    if len(parts) > MAX_FUSED_TERMS >= len(summands):   # distributing must not cost the fusion
        return [_term_parts(t, e.shape) for t in summands]
    return parts


MAX_SPLIT_COLUMNS = 16   # a row-level X @ b with at most this many columns enters the fused pass column by column


def _matvec_columns(t, shape):
    """A row-level data matrix times a coefficient vector, X @ b (X: rows x K, K <= MAX_SPLIT_COLUMNS), as
    K scalar-times-column terms b[j] * X[:, j] (b[j] a view of b); else None. The fused op then reads X's
    columns in its one pass over the rows instead of a separate product writing (and its adjoint reading)
    a full-size vector (a survey's individual-level predictors: 2 columns over 50,000 rows took a third
    of the gradient)."""
    if not (isinstance(t, Op) and t.kind == "matmul" and t.shape == tuple(shape) and len(shape) == 1):
        return None
    X, b = t.attrs["matrix"], t.args[0]
    if b.ndim != 1 or X.ndim != 2 or X.shape[0] != shape[0] or not 1 <= X.shape[1] <= MAX_SPLIT_COLUMNS:
        return None
    return [TermParts(ops.TERM_SCALAR, Op("gather", [b], (1,), index=np.array([j]), as_view=True), None,
                      Const(np.ascontiguousarray(X[:, j], dtype=np.float64)))
            for j in range(X.shape[1])]


def _distributed(t, shape):
    """t = s * (x1 + x2 + ...) as the scaled terms s * x1, s * x2, ..., when each of them is one; else None."""
    if not is_binary(t, ops.MUL) or t.shape != tuple(shape):
        return None
    a, b = t.args
    s, inner = (a, b) if a.size == 1 else (b, a) if b.size == 1 else (None, None)
    if s is None or not is_binary(inner, ops.ADD):
        return None
    out = []
    for x in sum_terms(inner):
        product = Op("binary", [s, x], t.shape, code=ops.MUL)
        parts = _distributed(product, shape) or [_scaled_parts(product, shape)]
        if any(p is None for p in parts):
            return None
        out.extend(parts)
    return out


def _term_parts(t, shape):
    """TermParts of one summand of a fused linear predictor."""
    if t.size == 1:
        return TermParts(ops.TERM_SCALAR, t)
    if isinstance(t, Op) and t.kind == "gather":
        return TermParts(ops.TERM_GATHER, t.args[0], t)
    size = int(np.prod(shape, dtype=np.int64))
    split = _data_times(t, size) if t.shape == shape else None
    if split is not None:
        data, other = split
        if other.size == 1:
            return TermParts(ops.TERM_SCALAR, other, None, data)
        if isinstance(other, Op) and other.kind == "gather":
            return TermParts(ops.TERM_GATHER, other.args[0], other, data)
    scaled = _scaled_parts(t, shape)
    if scaled is not None:
        return scaled
    return TermParts(ops.TERM_DENSE, split[1], None, split[0]) if split is not None else TermParts(ops.TERM_DENSE, t)


def _data_times(t, size):
    """(data column, other factor) when t is a full-size data column times something, else None."""
    if not is_binary(t, ops.MUL):
        return None
    a, b = t.args
    if isinstance(a, Const) and a.size == size:
        return a, b
    if isinstance(b, Const) and b.size == size:
        return b, a
    return None


def _has_gather(t):
    if isinstance(t, Op) and t.kind == "gather":
        return True
    return is_binary(t, ops.MUL) and any(isinstance(a, Op) and a.kind == "gather" for a in t.args)
