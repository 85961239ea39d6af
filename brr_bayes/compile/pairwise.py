"""The ICAR prior written out, as the Stan case studies and NumPyro models write it, found in a potential:
``-0.5 * sum((phi[node1] - phi[node2]) ** 2)`` becomes the same one fused IcarPairwise op that ``bb.ICAR``
lowers to, instead of two gathers, a difference, a square and a sum over the edges (W3: 1.4x slower)."""
from __future__ import annotations

import numpy as np

from .. import ops
from ..model.expr import Const, Op, is_binary


def _const_factor(e):
    """(c, rest) when e is a constant scalar c times rest (either side), else (1.0, e)."""
    if is_binary(e, ops.MUL):
        a, b = e.args
        for c, rest in ((a, b), (b, a)):
            if isinstance(c, Const) and c.size == 1:
                return float(np.ravel(c.value)[0]), rest
    return 1.0, e


def _scalar_factors(e):
    """The sum inside the scalar factors (constants or parameters) multiplying it, tau * (-0.5 * sum(x))
    -> sum(x); e itself when there is no one such sum."""
    while is_binary(e, ops.MUL) and e.size == 1:
        sums = [a for a in e.args if isinstance(a, Op) and a.kind == "sum"]
        products = [a for a in e.args if is_binary(a, ops.MUL)]
        if len(sums) == 1:
            return sums[0]
        if len(products) != 1:
            return e
        e = products[0]
    return e


def _squared(e):
    """d when e is d squared: square(d), d * d, d ** 2."""
    if not isinstance(e, Op):
        return None
    if e.kind == "unary" and e.attrs["code"] == ops.SQUARE:
        return e.args[0]
    if is_binary(e, ops.MUL) and _same_difference(*e.args):
        return e.args[0]
    if is_binary(e, ops.POW) and isinstance(e.args[1], Const) and e.args[1].size == 1 \
            and float(np.ravel(e.args[1].value)[0]) == 2.0:
        return e.args[0]
    return None


def _edge_difference(d):
    """(field, first ids, second ids) when d = field[i] - field[j] (flat gathers of one field)."""
    if not is_binary(d, ops.SUB):
        return None
    g1, g2 = d.args
    if not all(isinstance(g, Op) and g.kind == "gather" for g in (g1, g2)) or g1.args[0] is not g2.args[0] \
            or isinstance(g1.args[0], Const):
        return None
    i, j = np.asarray(g1.attrs["index"]), np.asarray(g2.attrs["index"])
    if i.size != j.size or i.size == 0:
        return None
    return g1.args[0], i, j


def _same_difference(a, b):
    if a is b:
        return _edge_difference(a) is not None
    da, db = _edge_difference(a), _edge_difference(b)
    return da is not None and db is not None and da[0] is db[0] and np.array_equal(da[1], db[1]) \
        and np.array_equal(da[2], db[2])


def icar_parts(e, sign=1.0):
    """(field, first ids, second ids) when sign * e is -1/2 times the sum over pairs of the squared
    differences of one field, with the constants outside or inside the sum; else None."""
    c1, rest = _const_factor(e)
    c1 *= sign
    if not (isinstance(rest, Op) and rest.kind == "sum"):
        return None
    c2, inner = _const_factor(rest.args[0])
    d = _squared(inner)
    parts = _edge_difference(d) if d is not None else None
    if parts is None or c1 * c2 != -0.5:
        return None
    return parts


def _is_weighted_icar(e):
    """e is a sum over pairs of squared differences of one field times some other weight."""
    inner = _scalar_factors(e)
    if not (isinstance(inner, Op) and inner.kind == "sum"):
        return False
    d = _squared(_const_factor(inner.args[0])[1])
    return d is not None and _edge_difference(d) is not None


def lower_potential(C, name, expr):
    """Lower a potential: each summand of the ICAR pattern as one IcarPairwise op (Stan's icar_normal_lpdf
    returns it plus the soft sum-to-zero), the rest as one TargetAdd."""
    e = C.canon(expr)
    terms = _signed_terms(e) if e.size == 1 else [(1.0, e)]
    rest = []
    for sign, t in terms:
        parts = icar_parts(t, sign)
        if parts is None:
            rest.append((sign, t))
            if _is_weighted_icar(t):
                C.note("pairwise", f"potential '{name}': a sum of squared differences over pairs with a weight "
                                   "other than -1/2 is computed as written; write the weight on the field "
                                   "(phi = sigma * z, -0.5 * sum((z[i] - z[j]) ** 2)) for the fused icar op")
            continue
        field, i, j = parts
        n = field.size
        C.op(ops.ICAR_PAIRWISE, [C.slot(field)], idx=[C.index(i, n), C.index(j, n)])
        C.canon.rewrites.append(("pairwise", f"potential '{name}': -1/2 sum of squared differences over "
                                             f"{i.size:,} pairs as one icar_pairwise op"))
    if len(rest) == len(terms):
        C.op(ops.TARGET_ADD, [C.slot(expr)])
    elif rest:
        total = rest[0][1] if rest[0][0] > 0 else Op("unary", [rest[0][1]], rest[0][1].shape, code=ops.NEG)
        for sign, t in rest[1:]:
            total = Op("binary", [total, t], total.shape, code=ops.ADD if sign > 0 else ops.SUB)
        C.op(ops.TARGET_ADD, [C.slot(total)])


def _signed_terms(e):
    """[(+1 or -1, summand)] of a tree of scalar additions and subtractions, left to right."""
    out, stack = [], [(1.0, e)]
    while stack:
        sign, t = stack.pop()
        if is_binary(t, ops.ADD, ops.SUB) and t.size == 1:
            a, b = t.args
            stack.append((sign if t.attrs["code"] == ops.ADD else -sign, b))
            stack.append((sign, a))
        else:
            out.append((sign, t))
    return out
