"""Expression graph with numpy broadcasting: building it computes nothing (compile.py lowers it).

Every node has a static ``shape``. Indexing, broadcasting, transposes and reductions over axes are
turned into gathers and scatter-adds whose index maps numpy computes once, at model-build time.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import ops, portable

_INT_KINDS = "iu"


class Expr:
    """A node of the model's computation graph (constant data, parameter, or operation)."""

    __array_priority__ = 1000  # numpy defers to our operators: ndarray + Expr -> Expr

    def __init__(self, shape):
        self.shape = tuple(int(s) for s in shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # No __len__: numpy and scipy.sparse then see an opaque object and defer to our operators.

    # arithmetic ------------------------------------------------------------------------
    def __add__(self, o): return binary(ops.ADD, self, o)
    def __radd__(self, o): return binary(ops.ADD, o, self)
    def __sub__(self, o): return binary(ops.SUB, self, o)
    def __rsub__(self, o): return binary(ops.SUB, o, self)
    def __mul__(self, o): return binary(ops.MUL, self, o)
    def __rmul__(self, o): return binary(ops.MUL, o, self)
    def __truediv__(self, o): return binary(ops.DIV, self, o)
    def __rtruediv__(self, o): return binary(ops.DIV, o, self)
    def __pow__(self, o): return binary(ops.POW, self, o)
    def __rpow__(self, o): return binary(ops.POW, o, self)
    def __neg__(self): return unary(ops.NEG, self)
    # comparisons give 1.0 or 0.0 (no gradient), for bb.math.where; == and != stay identity (expressions are keys)
    def __lt__(self, o): return binary(ops.LT, self, o)
    def __le__(self, o): return binary(ops.LE, self, o)
    def __gt__(self, o): return binary(ops.GT, self, o)
    def __ge__(self, o): return binary(ops.GE, self, o)
    __hash__ = object.__hash__
    def __pos__(self): return self
    def __matmul__(self, o): return matmul(self, o)
    def __rmatmul__(self, o): return matmul(o, self)
    def __getitem__(self, key): return getitem(self, key)

    def __bool__(self):
        raise TypeError("an expression has no truth value while the model is being built; "
                        "use numpy on data, or brr_bayes.model.math functions on parameters")

    # array methods ---------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False): return reduce_sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return reduce_mean(self, axis, keepdims)
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape)
    def cumsum(self, axis=None): return cumsum(self, axis)
    def flatten(self): return reshape(self, (self.size,))
    @property
    def T(self): return transpose(self)


class Const(Expr):
    """Data: a float64 array fixed when the model is built."""

    def __init__(self, value):
        value = np.asarray(value, dtype=np.float64)
        super().__init__(value.shape)
        self.value = value


class Op(Expr):
    """An operation on other expressions; ``kind`` says which, ``attrs`` holds index maps etc."""

    def __init__(self, kind, args, shape, **attrs):
        super().__init__(shape)
        self.kind = kind
        self.args = tuple(args)
        self.attrs = attrs


ELEMENTWISE = ("unary", "binary", "elementwise")  # the kinds computed element by element (rewrites move them freely)


def is_binary(e, *codes) -> bool:
    """Whether e is an elementwise binary op with one of the given op codes (brr_bayes.ops)."""
    return isinstance(e, Op) and e.kind == "binary" and e.attrs["code"] in codes


def postorder(roots, done=None, children=None):
    """Yield the nodes reachable from ``roots``, each once, every node after its arguments.

    Iterative, so a graph thousands of steps deep (a written-out time series) never meets Python's
    recursion limit. Nodes for which ``done(node)`` is true are skipped with everything below them;
    it is asked as the walk reaches a node, so a caller that records results as nodes are yielded
    can pass its own memo. ``children(node)`` (default: the node's arguments) says where to descend.
    """
    seen = set()
    stack = [(r, False) for r in reversed(list(roots))]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        if id(node) in seen or (done is not None and done(node)):
            continue
        seen.add(id(node))
        stack.append((node, True))
        for a in reversed(getattr(node, "args", ()) if children is None else children(node)):
            if id(a) not in seen:
                stack.append((a, False))


def host_array(x):
    """x itself, or a GPU array's values (CuPy, Numba, PyTorch: anything with ``__cuda_array_interface__``)
    copied to the host. Model data lives in the Program; a device run (``device="cuda"``) uploads it to
    the GPU once, when the run starts.

    Example:
        >>> import numpy as np
        >>> host_array(np.ones(2))
        array([1., 1.])
    """
    if isinstance(x, np.ndarray) or not hasattr(x, "__cuda_array_interface__"):
        return x
    for copy in ("get", "copy_to_host"):   # CuPy; Numba device arrays
        if callable(getattr(x, copy, None)):
            return np.asarray(getattr(x, copy)())
    if callable(getattr(x, "cpu", None)):  # a PyTorch CUDA tensor
        return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x.cpu())
    raise TypeError(f"cannot read a {type(x).__name__} (a GPU array) as model data: it has no .get(), "
                    ".copy_to_host() or .cpu(); pass a numpy copy of it (for CuPy: cupy.asnumpy(x))")


def as_expr(x) -> Expr:
    if isinstance(x, Expr):
        return x
    x = host_array(x)
    if isinstance(x, (numbers.Number, np.ndarray, list, tuple, np.generic)):
        arr = np.asarray(x)
        if arr.dtype == object:
            raise TypeError(f"cannot use {type(x).__name__} holding non-numbers in a model expression")
        return Const(arr)
    raise TypeError(f"cannot use a {type(x).__name__} in a model expression; pass numbers, numpy arrays "
                    "or brr_bayes expressions")


def constant_value(x):
    """The numpy value of a constant expression (or plain number), else None."""
    if isinstance(x, Const):
        return x.value
    if isinstance(x, Expr):
        return None
    return np.asarray(host_array(x), dtype=np.float64)


# structure ---------------------------------------------------------------------------------
def _positions(shape):
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)


def gather(x: Expr, index_map: np.ndarray) -> Expr:
    """out = x.ravel()[index_map] with out.shape == index_map.shape (identity maps cost nothing)."""
    index_map = np.asarray(index_map, dtype=np.int64)
    if isinstance(x, Const):
        return Const(x.value.ravel()[index_map])
    if index_map.size == x.size and np.array_equal(index_map.ravel(), np.arange(x.size)):
        return reshape(x, index_map.shape)
    return Op("gather", [x], index_map.shape, index=index_map.ravel())


def broadcast_to(x: Expr, shape) -> Expr:
    shape = tuple(shape)
    if x.shape == shape:
        return x
    if isinstance(x, Const):
        return Const(np.broadcast_to(x.value, shape).copy())
    return gather(x, np.broadcast_to(_positions(x.shape), shape))


def reshape(x: Expr, shape) -> Expr:
    x = as_expr(x)
    shape = tuple(int(s) for s in np.empty(x.shape, dtype=np.int8).reshape(shape).shape)
    if shape == x.shape:
        return x
    if isinstance(x, Const):
        return Const(x.value.reshape(shape))
    return Op("reshape", [x], shape)


def transpose(x: Expr, axes=None) -> Expr:
    x = as_expr(x)
    return gather(x, np.transpose(_positions(x.shape), axes))


def getitem(x: Expr, key) -> Expr:
    """numpy indexing (ints, slices, integer arrays, None, Ellipsis) lowered to a gather."""
    keys = key if isinstance(key, tuple) else (key,)
    checked = []
    axis = 0
    for k in keys:
        if isinstance(k, Expr):
            raise TypeError("indexing with a model expression is not supported; index with integer data "
                            "(numpy arrays of group ids)")
        if k is None or k is Ellipsis or isinstance(k, slice):
            checked.append(k)
            axis += 0 if k is None else 1
            continue
        arr = np.asarray(host_array(k))
        if arr.dtype == bool:
            checked.append(arr)
            axis += arr.ndim
            continue
        if arr.dtype.kind not in _INT_KINDS:
            raise TypeError(f"index arrays must hold integers, got dtype {arr.dtype}; convert group ids with "
                            ".astype(int) (and check they are whole numbers)")
        if axis < x.ndim and arr.size:
            n = x.shape[axis]
            if arr.ndim > 0 and (arr.min() < 0 or arr.max() >= n):
                bad = arr[(arr < 0) | (arr >= n)].ravel()[0]
                raise ValueError(f"index value {bad} is out of range for axis {axis} of size {n}; "
                                 f"group ids must be 0-based integers in [0, {n - 1}]")
        checked.append(arr if arr.ndim else int(arr))
        axis += 1
    try:
        index_map = _positions(x.shape)[tuple(checked)]
    except IndexError as e:
        raise ValueError(f"invalid index for an expression of shape {x.shape}: {e}") from None
    return gather(x, np.asarray(index_map))


def concatenate(xs, axis=0) -> Expr:
    """Join expressions along an existing axis (like numpy.concatenate)."""
    xs = [as_expr(x) for x in xs]
    if not xs:
        raise ValueError("concatenate needs at least one expression")
    if all(isinstance(x, Const) for x in xs):
        return Const(np.concatenate([x.value for x in xs], axis=axis))
    nd = xs[0].ndim
    if nd == 0:
        raise ValueError("cannot concatenate scalars; use stack")
    axis = axis % nd
    out_shape = np.concatenate([np.empty(x.shape, np.int8) for x in xs], axis=axis).shape
    moved = [gather(x, np.moveaxis(_positions(x.shape), axis, 0)) if axis else x for x in xs]
    moved_shape = (out_shape[axis],) + tuple(s for i, s in enumerate(out_shape) if i != axis)
    joined = Op("concat", moved, moved_shape)
    if not axis:
        return joined
    return gather(joined, np.moveaxis(_positions(moved_shape), 0, axis))


def stack(xs, axis=0) -> Expr:
    """Join same-shape expressions along a new axis (like numpy.stack)."""
    xs = [as_expr(x) for x in xs]
    shape = xs[0].shape
    if any(x.shape != shape for x in xs):
        raise ValueError(f"stack needs expressions of one shape, got {[x.shape for x in xs]}")
    axis = axis % (len(shape) + 1)
    expanded = [reshape(x, shape[:axis] + (1,) + shape[axis:]) for x in xs]
    return concatenate(expanded, axis=axis)


# elementwise -------------------------------------------------------------------------------
def unary(code: int, x) -> Expr:
    x = as_expr(x)
    if isinstance(x, Const):
        return Const(ops.numpy_unary(code, x.value))
    return Op("unary", [x], x.shape, code=code)


def binary(code: int, a, b) -> Expr:
    a, b = as_expr(a), as_expr(b)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"shapes {a.shape} and {b.shape} do not broadcast together; check the dims of "
                         "the operands (reshape one, or index it by group ids)") from None
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(ops.numpy_binary(code, a.value, b.value))
    a = a if a.size == 1 else broadcast_to(a, shape)
    b = b if b.size == 1 else broadcast_to(b, shape)
    return Op("binary", [a, b], shape, code=code)


def elementwise(code: int, *args) -> Expr:
    """An elementwise op of any arity (its numpy twin in brr_bayes.ops), inputs broadcast to one shape."""
    args = [as_expr(a) for a in args]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in args))
    except ValueError:
        raise ValueError(f"shapes {[a.shape for a in args]} do not broadcast together; check the dims of the "
                         f"operands of {ops.name(code)} (reshape one, or index it by group ids)") from None
    if all(isinstance(a, Const) for a in args):
        return Const(ops.numpy_elementwise(code, *(a.value for a in args)))
    return Op("elementwise", [a if a.size == 1 else broadcast_to(a, shape) for a in args], shape, code=code)


# reductions --------------------------------------------------------------------------------
def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for an expression with {ndim} dimensions")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def reduce_sum(x, axis=None, keepdims=False) -> Expr:
    x = as_expr(x)
    if isinstance(x, Const):
        return Const(x.value.sum(axis=axis, keepdims=keepdims))
    axes = _norm_axes(axis, x.ndim)
    kept = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    out_shape = kept if keepdims else tuple(s for i, s in enumerate(x.shape) if i not in axes)
    if len(axes) == x.ndim:
        return reshape(Op("sum", [x], ()), out_shape)
    index = np.broadcast_to(_positions(kept), x.shape).ravel()
    return Op("scatter", [x], out_shape, index=index, out_size=int(np.prod(out_shape, dtype=np.int64)))


def reduce_mean(x, axis=None, keepdims=False) -> Expr:
    x = as_expr(x)
    axes = _norm_axes(axis, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64)) if axes else 1
    return reduce_sum(x, axis, keepdims) * (1.0 / count)


def _axis_layout(shape, axis):
    if axis is None:
        return (1, int(np.prod(shape, dtype=np.int64)), 1)
    axis = _norm_axes(axis, len(shape))[0]
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    return (outer, shape[axis], inner)


def cumsum(x, axis=None) -> Expr:
    x = as_expr(x)
    if isinstance(x, Const):
        return Const(np.cumsum(x.value, axis=axis))
    if axis is None:
        x = reshape(x, (x.size,))
    return Op("axis", [x], x.shape, code=ops.CUMSUM, layout=_axis_layout(x.shape, axis))


def logsumexp(x, axis=None, keepdims=False) -> Expr:
    x = as_expr(x)
    axes = _norm_axes(axis, x.ndim)
    if len(axes) > 1 and len(axes) != x.ndim:
        raise ValueError("logsumexp reduces over one axis or all of them")
    if len(axes) == x.ndim:
        flat = reshape(x, (x.size,))
        out = Op("axis", [flat], (), code=ops.LOGSUMEXP, layout=(1, x.size, 1))
        return reshape(out, (1,) * x.ndim) if keepdims else out
    kept = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    out_shape = kept if keepdims else tuple(s for i, s in enumerate(x.shape) if i not in axes)
    return Op("axis", [x], out_shape, code=ops.LOGSUMEXP, layout=_axis_layout(x.shape, axes[0]))


def softmax(x, axis=-1) -> Expr:
    x = as_expr(x)
    if x.ndim == 0:
        raise ValueError("softmax needs at least one dimension")
    return Op("axis", [x], x.shape, code=ops.SOFTMAX, layout=_axis_layout(x.shape, axis))


# products with data ------------------------------------------------------------------------
def matmul(a, b) -> Expr:
    """data @ parameters (dense or scipy.sparse CSR on the left), parameters @ data, or parameters @ parameters."""
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a dependency
        sp = None
    if sp is not None and sp.issparse(a):
        b = as_expr(b)
        A = sp.csr_matrix(a)
        if b.ndim != 1 or A.shape[1] != b.shape[0]:
            raise ValueError(f"sparse matrix of shape {A.shape} cannot multiply an expression of shape {b.shape}")
        A.sort_indices()
        return Op("csr", [b], (A.shape[0],), matrix=A)
    a_const, b_const = constant_value(a), constant_value(b)
    if a_const is not None and b_const is not None:
        return Const(portable.matmul(a_const, b_const))
    if a_const is not None:
        X = np.atleast_2d(np.asarray(a_const, dtype=np.float64))
        b = as_expr(b)
        if X.ndim != 2 or b.ndim not in (1, 2) or X.shape[1] != b.shape[0]:
            raise ValueError(f"cannot multiply data of shape {np.shape(a_const)} by an expression of shape {b.shape}")
        out_shape = (X.shape[0],) + b.shape[1:]
        if np.ndim(a_const) == 1:
            out_shape = b.shape[1:]
        return reshape(Op("matmul", [b], (X.shape[0],) + b.shape[1:], matrix=X), out_shape)
    if b_const is not None:
        a = as_expr(a)
        X = np.asarray(b_const, dtype=np.float64)
        if a.ndim == 1:
            return matmul(X.T, a) if X.ndim == 2 else (a * X).sum()
        return transpose(matmul(X.T, transpose(a)))
    return _product_of_expressions(as_expr(a), as_expr(b))


def _product_of_expressions(a, b):
    """a @ b for two parameter expressions (1-d or 2-d), as a broadcast product summed over the shared axis.

    O(n k m) elementwise work through existing ops (gathers, multiply, scatter-add sums): right for
    the small matrices of covariance factors and loadings, not for data-sized products.
    """
    if a.ndim not in (1, 2) or b.ndim not in (1, 2) or a.shape[-1] != b.shape[0]:
        raise ValueError(f"cannot multiply expressions of shapes {a.shape} and {b.shape}: the last axis of the first "
                         "must match the first axis of the second (1-d or 2-d operands)")
    if a.ndim == 1 and b.ndim == 1:
        return reduce_sum(a * b)
    if a.ndim == 2 and b.ndim == 1:
        return reduce_sum(a * reshape(b, (1, b.shape[0])), axis=1)
    if a.ndim == 1:
        return reduce_sum(reshape(a, (a.shape[0], 1)) * b, axis=0)
    n, k = a.shape
    m = b.shape[1]
    return reduce_sum(reshape(a, (n, k, 1)) * reshape(b, (1, k, m)), axis=1)


def sum_terms(e):
    """The summands of a tree of full-size additions, left to right (iterative: any depth)."""
    terms, stack = [], [e]
    while stack:
        t = stack.pop()
        if is_binary(t, ops.ADD) and t.shape == e.shape:
            stack.extend(reversed(t.args))
        else:
            terms.append(t)
    return terms


def nonfinite_data(e, scanned=None):
    """Where the data under ``e`` (constants, data matrices dense or sparse) holds NaN or inf, in words:
    'data holding inf (1 of 3 values of an array of shape (3,), the first at index (1,))'; None if nowhere.
    ``scanned`` (id -> node, kept alive so an id is never reused) skips nodes scanned before and records
    the ones scanned now, so data shared by many terms is scanned once."""
    done = None if scanned is None else (lambda n: id(n) in scanned)
    for node in postorder([e], done=done):
        if scanned is not None:
            scanned[id(node)] = node
        arrays = [node.value] if hasattr(node, "value") and not hasattr(node, "args") else []
        m = getattr(node, "attrs", {}).get("matrix")
        if m is not None:
            arrays.append(m.data if hasattr(m, "tocsr") else m)
        for a in arrays:
            a = np.asarray(a)
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                bad = ~np.isfinite(a)
                first = np.unravel_index(np.argmax(bad), a.shape) if a.ndim else ()
                kind = "a sparse matrix's stored values" if m is not None and hasattr(m, "tocsr") else \
                    f"an array of shape {a.shape}"
                held = "/".join(sorted({"NaN" if np.isnan(v) else str(v) for v in a[bad].ravel()[:8]}))
                return (f"data holding {held} ({int(bad.sum())} of {a.size} values of {kind}, the first at index "
                        f"{tuple(int(i) for i in first)})")
    return None

