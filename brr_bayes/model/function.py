"""Python functions of expressions traced once into a body the C++ core calls as a Function.

``bb.math.scan`` steps and ``bb.ode.solve`` right-hand sides are written as ordinary Python over
their arguments and may use the model's parameters directly (closures). Tracing calls the function
once on placeholder arguments; every model expression the result reads that is not one of the
arguments (a parameter, a transformed parameter) is captured: lifted out as an extra input, so the
body is a pure function and its gradient reaches the captured parameters.
"""
from __future__ import annotations

import numbers

import numpy as np

from .expr import Const, Expr, Op, as_expr, concatenate, postorder, reshape, stack

# kinds whose attrs hold further expressions (a density's parameters) or bodies of their own
_NOT_IN_BODY = {"lpdf": "a log density (Dist.logp)", "scan": "another scan", "ode": "an ODE solve"}


class Placeholder(Expr):
    """An argument of a traced function while its body is built (or a captured outer expression)."""

    def __init__(self, shape, name):
        super().__init__(shape)
        self.name = name

    def __repr__(self):
        return f"<argument {self.name} {self.shape}>"


class Traced:
    """``fn(*args)`` traced on placeholders: its arguments, the outer expressions it captured, its output.

    The body's input vector is the arguments then the captured expressions, each flattened, in order.
    """

    def __init__(self, fn, arg_shapes, arg_names, out_shape, what):
        self.what = what
        self.arguments = [Placeholder(s, n) for s, n in zip(arg_shapes, arg_names)]
        try:
            out = fn(*self.arguments)
        except TypeError as e:
            raise TypeError(f"{what}: calling the function on its arguments ({', '.join(arg_names)}) failed: {e}") \
                from e
        out = _as_output(out, out_shape, what)
        self.captured, self.output = _lift_captured(out, self.arguments, what)
        self.captured_inputs = [Placeholder(c.shape, f"captured[{i}]") for i, c in enumerate(self.captured)]
        subst = {id(c): ph for c, ph in zip(self.captured, self.captured_inputs)}
        self.output = _substitute(self.output, subst)

    @property
    def inputs(self):
        return self.arguments + self.captured_inputs

    @property
    def in_dim(self):
        return int(sum(p.size for p in self.inputs))

    @property
    def captured_size(self):
        return int(sum(c.size for c in self.captured))

    def captured_vector(self):
        """The captured expressions as one flat vector expression (None when nothing was captured)."""
        if not self.captured:
            return None
        parts = [reshape(c, (c.size,)) for c in self.captured]
        return parts[0] if len(parts) == 1 else concatenate(parts)


def _as_output(out, shape, what):
    if isinstance(out, (list, tuple)):
        if not out:
            raise ValueError(f"{what}: the function returned an empty sequence")
        parts = [as_expr(o) for o in out]
        if any(p.size != 1 for p in parts):
            raise ValueError(f"{what}: a returned sequence must hold scalars, got shapes {[p.shape for p in parts]}")
        out = stack([reshape(p, ()) for p in parts])
    elif isinstance(out, (Expr, numbers.Number, np.ndarray)):
        out = as_expr(out)
    else:
        raise TypeError(f"{what}: the function must return an expression, a number, an array or a list of "
                        f"scalars, got {type(out).__name__}")
    if out.shape != tuple(shape):
        if out.size == int(np.prod(shape, dtype=np.int64)) and out.size == 1:
            return reshape(out, shape)
        raise ValueError(f"{what}: the function returned shape {out.shape}, expected {tuple(shape)} "
                         "(the shape of the state)")
    return out


def _lift_captured(out, arguments, what):
    """(outer expressions the body reads, in first-use order; the output). Outer = does not depend on an
    argument and is not data."""
    args = {id(a) for a in arguments}
    live = {}
    captured, seen = [], set()
    for node in postorder([out]):
        if isinstance(node, Op) and node.kind in _NOT_IN_BODY:
            raise ValueError(f"{what}: the function uses {_NOT_IN_BODY[node.kind]}, which a traced body cannot "
                             "hold; compute it outside the function")
        live[id(node)] = id(node) in args or (isinstance(node, Op) and any(live[id(a)] for a in node.args))
        if isinstance(node, Placeholder) and id(node) not in args:
            raise ValueError(f"{what}: the function uses {node!r}, an argument of an enclosing scan or ODE "
                             "right-hand side; nested traced functions are not supported")
        if isinstance(node, Op) and live[id(node)]:
            for a in node.args:
                if not live[id(a)] and not isinstance(a, Const) and id(a) not in seen:
                    seen.add(id(a))
                    captured.append(a)
    if not live[id(out)] and not isinstance(out, Const) and id(out) not in seen:
        captured.append(out)  # the function ignores its arguments but reads the model
    return captured, out


def _substitute(out, subst):
    """out with the nodes in subst (id -> replacement) replaced, rebuilding what lies above them."""
    new = {}
    for node in postorder([out], done=lambda n: id(n) in subst):
        if isinstance(node, Op):
            args = [_pick(subst, new, a) for a in node.args]
            new[id(node)] = node if all(a is b for a, b in zip(args, node.args)) else \
                Op(node.kind, args, node.shape, **node.attrs)
    return _pick(subst, new, out)


def _pick(subst, new, node):
    hit = subst.get(id(node))
    return hit if hit is not None else new.get(id(node), node)
