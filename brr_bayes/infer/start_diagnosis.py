"""Why no chain could start: the term whose log density is not finite anywhere, in words.

The sampler tries 100 random points and reports only that none had a finite log density and gradient.
That was the whole message for inf in a data vector, a Cholesky factor of a matrix that is not positive
definite, or bounds with upper below lower: the user had to bisect the model. Here the model's terms are
evaluated one by one in numpy (compile.evaluate) at the same kind of points, and the first one that is
not finite at any of them is named, with the input that makes it so.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from ..compile.evaluate import Evaluator
from ..compile.lower import evaluate_in_core
from ..model.expr import Op, nonfinite_data, postorder


def why_no_start(model, tries=20, seed=0):
    """A sentence naming the term (and its input) whose value is not finite at every one of ``tries``
    random starting points uniform(-2, 2), or None when no single term is to blame."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(tries, model.dim))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            values = model.compiled.constrain_many(X)
        except Exception:   # the diagnosis must never hide the sampler's own error
            return None
        env = {rv: np.asarray(values[rv.name]).reshape((tries,) + rv.shape) for rv in model.free_rvs}
        ev = Evaluator(env, tries, evaluate_in_core)
        for rv in model.free_rvs:
            found = _bounds(rv, ev) or _value(rv, env[rv]) or _term(rv.name, rv.dist, env[rv], ev, tries)
            if found:
                return found
        for rv in model.observed_rvs:
            found = _term(rv.name, rv.dist, np.asarray(rv.value), ev, tries, observed=True)
            if found:
                return found
        for name, expr in model.potentials:
            try:
                v = ev(expr)
            except Exception:
                continue
            if _nowhere_finite(v):
                return (f"the Potential '{name}' is not finite at any of {tries} random starting points"
                        f"{_data_note(expr) or _op_note(expr, ev)}")
    return None


def _nowhere_finite(v):
    v = np.asarray(v, dtype=np.float64).reshape(np.shape(v)[0], -1)
    return bool(v.size) and not np.all(np.isfinite(v), axis=1).any()


def _bounds(rv, ev):
    lower, upper = getattr(rv.transform, "lower", None), getattr(rv.transform, "upper", None)
    if lower is None or upper is None or not hasattr(lower, "shape") or not hasattr(upper, "shape"):
        return None
    try:
        width = np.asarray(ev(upper) - ev(lower))
    except Exception:
        return None
    if not (width > 0).any():
        return (f"{type(rv.dist).__name__} '{rv.name}': its upper bound is not above its lower bound at any of "
                f"{width.shape[0]} random starting points (upper - lower = {float(width.ravel()[0]):g} at the first); "
                "make upper > lower for every value of the parameters they depend on")
    return None


def _value(rv, value):
    if _nowhere_finite(value):
        return (f"{type(rv.dist).__name__} '{rv.name}': its value is not finite at any random starting point (check "
                "its transform and bounds)")
    return None


def _term(name, dist, value, ev, tries, observed=False):
    where = f"{type(dist).__name__} '{name}'"
    params = {}
    for pname, expr in dist.params.items():
        try:
            params[pname] = np.asarray(ev(expr))
        except Exception:
            return None
        if _nowhere_finite(params[pname]):
            bad = ~np.isfinite(params[pname][0])
            first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
            return (f"{where}: its parameter {pname} is not finite at any of {tries} random starting points "
                    f"({int(bad.sum())} of {bad.size} values at the first, e.g. at index {first})"
                    f"{_data_note(expr) or _op_note(expr, ev)}")
    try:
        lp = dist.logp_numpy(np.broadcast_to(value, (tries,) + np.shape(value)) if observed else value, params)
    except Exception:   # not every distribution has a numpy twin; the parameters were the likelier culprit
        return None
    if _nowhere_finite(np.asarray(lp).reshape(tries, -1)):
        what = "the observed data" if observed else "its values"
        return (f"{where}: its log density is not finite at any of {tries} random starting points although its "
                f"parameters are; check {what} against its support and its parameters' valid ranges")
    return None


def _data_note(expr):
    """', computed from data holding inf (...)' when data under expr is not finite, else ''."""
    bad = nonfinite_data(expr)
    return f", computed from {bad}; drop or fix those values" if bad else ""


def _op_note(expr, ev):
    """', first made non-finite by <op> (...)' for the first operation in expr whose inputs are finite at some
    starting point where its output is not, else ''."""
    for node in postorder([expr]):
        if not isinstance(node, Op) or not node.args:
            continue
        try:
            out = np.asarray(ev(node)).reshape(ev.batch, -1)
            ins = [np.asarray(ev(a)).reshape(ev.batch, -1) for a in node.args]
        except Exception:
            return ""
        ok_in = np.all([np.all(np.isfinite(v), axis=1) for v in ins], axis=0)
        if (ok_in & ~np.all(np.isfinite(out), axis=1)).any():
            if node.kind == "cholesky":
                return ", because the matrix passed to bb.math.cholesky is not positive definite"
            what = node.kind if node.kind not in ("unary", "binary") else ops.name(node.attrs["code"])
            return f", first made non-finite by the operation {what} (its inputs are finite there)"
    return ""
