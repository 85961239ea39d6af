"""The expression graph evaluated in numpy over a batch of points (predictive draws, bounds at a point, and
the compiler's constant folding: the one numpy interpreter of the graph).

Every value carries a leading batch axis (one row per point) except constants, so one pass over the
graph serves all points at once. Scans and ODE solves, whose bodies are traced programs, run through
the core's own kernels.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .. import ops, portable
from ..model.core import FreeRV
from ..model.expr import Const, Op, postorder
from ..model.hmm import numpy_forward
from ..model.linalg import numpy_cholesky, numpy_trisolve
from ..model.recurrence import numpy_recurrence


class Evaluator:
    def __init__(self, env, batch, in_core=None):
        self.env = env          # FreeRV -> array (batch, *shape)
        self.batch = batch
        # scans and ODE solves run through the core's kernels: in_core(op, args) (compile.lower.evaluate_in_core)
        self.in_core = in_core
        self.memo = {}
        self._keep = []  # nodes whose id() keys the memo must stay alive

    def __call__(self, e):
        """Value of e with shape (batch, *e.shape); arguments first, iteratively (any depth)."""
        for node in postorder([e], done=lambda n: id(n) in self.memo):
            v = self._eval(node)
            full = (self.batch,) + node.shape
            self.memo[id(node)] = np.broadcast_to(v, full) if v.shape != full else v
            self._keep.append(node)
        return self.memo[id(e)]

    def _eval(self, e):
        B = self.batch
        if isinstance(e, Const):
            return np.asarray(e.value, dtype=np.float64)
        if isinstance(e, FreeRV):
            if e not in self.env:
                raise KeyError(f"no draws for parameter '{e.name}'")
            return self.env[e]
        if not isinstance(e, Op):
            raise TypeError(f"cannot evaluate {e!r}")
        k, a = e.kind, e.attrs
        args = [self.memo[id(x)] for x in e.args]
        flat = [v.reshape(B, -1) for v in args]
        if k == "unary":
            return ops.numpy_unary(a["code"], args[0])
        if k == "binary":
            x, y = (v if v[0].size > 1 or not e.shape else v.reshape((B,) + (1,) * len(e.shape)) for v in args)
            return ops.numpy_binary(a["code"], x, y)
        if k == "elementwise":
            return ops.numpy_elementwise(a["code"], *(v.reshape((B,) + x.shape) for v, x in zip(args, e.args)))
        if k == "reshape":
            return args[0].reshape((B,) + e.shape)
        if k == "gather":
            return flat[0][:, a["index"]].reshape((B,) + e.shape)
        if k == "scatter":
            out = np.zeros((B, a["out_size"]))
            np.add.at(out, (slice(None), a["index"]), flat[0])
            return out.reshape((B,) + e.shape)
        if k == "sum":
            return flat[0].sum(axis=1)
        if k == "axis":
            o, n, i = a["layout"]
            v = flat[0].reshape(B, o, n, i)
            if a["code"] == ops.CUMSUM:
                r = np.cumsum(v, axis=2)
            elif a["code"] == ops.LOGSUMEXP:
                r = special.logsumexp(v, axis=2)
            else:
                r = special.softmax(v, axis=2)
            return r.reshape((B,) + e.shape)
        if k == "concat":
            return np.concatenate(flat, axis=1).reshape((B,) + e.shape)
        if k == "matmul":   # data X (n, k) times a (k, ...) per point: one portable product over all points
            X = np.asarray(a["matrix"], dtype=np.float64)
            b = args[0].reshape(B, X.shape[1], -1)
            cols = np.moveaxis(b, 0, 1).reshape(X.shape[1], -1)            # (k, B * m)
            r = portable.matmul(X, cols).reshape(X.shape[0], B, -1)
            return np.moveaxis(r, 1, 0).reshape((B,) + e.shape)
        if k == "csr":
            return np.asarray((a["matrix"] @ flat[0].T).T).reshape((B,) + e.shape)
        if k in ("scan", "ode"):  # a traced body: run through the core's own kernels
            if self.in_core is None:
                raise TypeError(f"a {k} is evaluated by the core's kernels: pass in_core=evaluate_in_core")
            return self.in_core(e, [v.reshape((B,) + x.shape) for v, x in zip(args, e.args)])
        if k in _BATCHED:   # the op's numpy twin over the draws: arguments (B, *their shapes)
            return _BATCHED[k](*(v.reshape((B,) + x.shape) for v, x in zip(args, e.args))).reshape((B,) + e.shape)
        if k == "lpdf":    # a distribution's log density at a value: its own numpy version, params evaluated here
            dist = a["dist"]
            shape = (B,) + e.shape
            params = {n: np.broadcast_to(align(self(p), B, e.shape), shape) for n, p in dist.params.items()}
            return np.broadcast_to(dist.logp_numpy(args[0], params), shape)
        raise TypeError(f"cannot evaluate expression kind '{k}'")


# expression kinds whose numpy version lives beside the Python that builds them
_BATCHED = {"recurrence": numpy_recurrence, "hmm": numpy_forward, "cholesky": numpy_cholesky,
            "trisolve": numpy_trisolve}


def evaluate_at(exprs, values, in_core=None):
    """Numpy values of expressions at one point ``values`` ({free variable: constrained value})."""
    ev = Evaluator({rv: np.asarray(v, dtype=np.float64)[None] for rv, v in values.items()}, 1, in_core)
    return [ev(e)[0] for e in exprs]


def align(v, batch, shape, event=0):
    """A batched parameter (batch, *p_shape, *event axes) reshaped to broadcast against (batch, *shape, *event)."""
    return v.reshape((batch,) + (1,) * (len(shape) - (v.ndim - 1 - event)) + v.shape[1:])
