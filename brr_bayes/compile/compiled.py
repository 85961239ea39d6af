"""A compiled model: the C++ Program lowered from a Model, the layout that maps its parameters' names to
parts of the flat unconstrained vector, and the evaluators kept for it (logp and gradient at a point or
over a batch, constrain and unconstrain)."""
from __future__ import annotations

import hashlib
import threading

import numpy as np

from .. import _backend
from .evaluate import evaluate_at
from .lower import Compiler, evaluate_in_core
from .options import CompileOptions
from .pairwise import lower_potential


class CompiledModel:
    """The C++ Program of a Model plus the layout that maps names to parts of the flat vector."""

    def __init__(self, model, options: CompileOptions | None = None):
        self.model = model
        self.layout = {}
        off = 0
        for rv in model.free_rvs:
            usize = int(np.prod(rv.transform.unconstrained_shape(rv.shape), dtype=np.int64))
            self.layout[rv] = (off, usize)
            off += usize
        self.dim = off
        self.program = _backend.core().Program(self.dim)
        self._batch, self._batch_threads, self._evaluators_lock = None, 0, threading.Lock()
        self._point_eval = None
        C = self.compiler = Compiler(self.program, self.layout, options)
        for rv in model.free_rvs:
            C.context = rv.name
            C.slot(rv)
            rv.dist.lower(C, rv)
        for rv in model.observed_rvs:
            C.context = rv.name
            rv.dist.lower(C, rv)
        for name, expr in model.potentials:
            C.context = name
            lower_potential(C, name, expr)
        for name, term in model.densities:
            C.context = name
            term.lower(C)
        C.context = ""
        self.outputs = [(rv.name, rv.shape, C.slot(rv)) for rv in model.free_rvs]
        self.outputs += [(name, expr.shape, C.slot(expr)) for name, expr, _ in model.deterministics]
        names = [(rv.name, rv.shape, type(rv.transform).__name__) for rv in model.free_rvs]
        self.fingerprint = hashlib.blake2b((C.p.hexdigest() + repr(names)).encode(), digest_size=16).hexdigest()

    def _x(self, x):
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.shape != (self.dim,):
            raise ValueError(f"x must be a float64 vector of length model.dim = {self.dim}, got shape {x.shape}")
        return x

    def logp(self, x):
        return self._point().logp(self._x(x))

    def logp_and_grad(self, x):
        return self._point().logp_and_grad(self._x(x))

    def _point(self):
        """The point evaluator, made at the first call and kept: its workspace stays allocated."""
        if self._point_eval is None:
            with self._evaluators_lock:
                if self._point_eval is None:
                    # a likelihood split into row chunks uses every core by default (same bits on any count)
                    threads = _backend.default_cores() if self.program.row_chunked else 1
                    self._point_eval = _backend.core().PointEvaluator(self.program, threads)
        return self._point_eval

    def logp_and_grad_batch(self, points, threads=1):
        X = np.ascontiguousarray(points, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dim or X.shape[0] < 1:
            raise ValueError(f"points must be a float64 array of shape (B, model.dim = {self.dim}) with B >= 1, "
                             f"got shape {X.shape}")
        if int(threads) < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        return self._batch_evaluator(X.shape[0], int(threads)).logp_and_grad(X)

    def _batch_evaluator(self, lanes, threads):
        """The batch evaluator for (lanes, threads), kept for the next call: its first call times the ways
        to run the lanes (about 15 evaluations of them all), so a new one per call made each call that
        much slower. One is kept, the last shape asked for, since its scratch grows with lanes."""
        with self._evaluators_lock:
            held = self._batch
            if held is None or (held.lanes, self._batch_threads) != (lanes, threads):
                held = self._batch = _backend.core().BatchEvaluator(self.program, lanes, threads)
                self._batch_threads = threads
            return held

    def unconstrain(self, values):
        x = np.zeros(self.dim)
        for rv in self.model.free_rvs:   # all first: a bound that is a parameter reads the others' values
            if rv.name not in values:
                raise ValueError(f"unconstrain: no value for '{rv.name}'; pass a value for every parameter "
                                 f"({[r.name for r in self.model.free_rvs]})")
        for rv in self.model.free_rvs:
            v = np.asarray(values[rv.name], dtype=np.float64)
            try:
                v = np.broadcast_to(v, rv.shape)
            except ValueError:
                raise ValueError(f"unconstrain: '{rv.name}' has shape {v.shape}, expected {rv.shape}") from None
            off, usize = self.layout[rv]
            tr = rv.transform
            if getattr(tr, "depends_on_parameters", False):   # bounds from the other values at this point
                given = {r: np.broadcast_to(np.asarray(values[r.name], dtype=np.float64), r.shape)
                         for r in self.model.free_rvs if r is not rv}
                lo, hi = (None if b is None else np.broadcast_to(evaluate_at([b], given, evaluate_in_core)[0], rv.shape)
                          for b in (tr.lower, tr.upper))
                tr.check_at(v, f"unconstrain: '{rv.name}'", lo, hi)
                x[off:off + usize] = np.ravel(tr.inverse_at(v, lo, hi))
                continue
            tr.check(v, f"unconstrain: '{rv.name}'")
            x[off:off + usize] = np.ravel(tr.inverse(v))
        return x

    def constrain_many(self, X, names=None):
        """{name: array (n, *shape)} for rows of X (n, dim)."""
        X = np.ascontiguousarray(np.atleast_2d(X), dtype=np.float64)
        if X.shape[1] != self.dim:
            raise ValueError(f"points must have {self.dim} columns, got {X.shape[1]}")
        outs = [o for o in self.outputs if names is None or o[0] in names]
        vals = self.program.eval_slots(X, [s for _, _, s in outs])
        return {name: v.reshape((X.shape[0],) + shape) for (name, shape, _), v in zip(outs, vals)}

    def constrain(self, x):
        return {k: v[0] for k, v in self.constrain_many(self._x(x)[None, :]).items()}
