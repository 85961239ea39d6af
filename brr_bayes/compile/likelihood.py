"""Lowering of GLM likelihoods over rows: merge repeated rows into cells, then fuse with the linear predictor.

Distributions describe their likelihood (family, linear predictor, response, auxiliary parameter); this
module decides how it runs, so that every distribution gets compression and fusion the same way:
1. compression (compress.py) when the predictor's data rows repeat;
2. one GlmLpdf op when the linear predictor is a sum of gathers, scalars and data columns;
3. otherwise, for merged cells, the family's cell log density written as array expressions.
Returns False when the distribution's own row-by-row op should be used.
"""
from __future__ import annotations

import numpy as np

from ..model import math as bm
from .. import ops
from ..model.expr import Const, as_expr, broadcast_to, reduce_sum
from .compress import cells as merge_cells

_NAMES = ops.GLM_FAMILY_NAMES


def lower_likelihood(C, family, eta, y, aux=None, trials=None, const=0.0):
    """Lower sum_i log p(y_i | eta_i, aux) for a GLM family (ops.GLM_*) through compiler C.

    ``y`` is the observed data (numpy), ``trials`` binomial trials (data), ``aux`` the normal sigma or
    negative-binomial phi (an expression), ``const`` the log density's data-only constant.
    """
    y = np.asarray(y, dtype=np.float64)
    eta = as_expr(eta)
    if eta.shape != y.shape:
        eta = broadcast_to(eta, y.shape)
    eta = C.canon(eta)
    mergeable = family != ops.GLM_NEGBIN and (family != ops.GLM_NORMAL or as_expr(aux).size == 1)
    if C.options.compress and y.ndim == 1 and mergeable:
        merged, why = merge_cells(family, eta, y, trials, C.options.max_cell_fraction)
        if why:
            C.note("compress", why)
        if merged is not None:
            C.note("compress", f"{_NAMES[family]} likelihood: {merged.rows:,} rows merged into "
                               f"{merged.y.size:,} cells of equal predictors")
            _lower_cells(C, family, merged, aux, const)
            return True
    trials_c = None if trials is None else Const(np.broadcast_to(trials, y.shape).astype(np.float64))
    if family == ops.GLM_BINOMIAL and trials_c is None:
        family = ops.GLM_BERNOULLI
    return C.glm(family, eta, Const(y), aux=trials_c if family == ops.GLM_BINOMIAL else aux, const=const)


def _lower_cells(C, family, m, aux, const):
    const = const + m.const
    y, w = Const(m.y), Const(m.weights)
    if family in (ops.GLM_BERNOULLI, ops.GLM_BINOMIAL):
        if not C.glm(ops.GLM_BINOMIAL, m.eta, y, aux=w, const=const):
            C.op(ops.BINOMIAL_LOGIT, [C.slot(y), C.slot(w), C.slot(m.eta)], dp=[const])
        return
    if family == ops.GLM_POISSON:
        if not C.glm(ops.GLM_POISSON, m.eta, y, weights=w, const=const):
            eta = C.canon(m.eta)
            C.op(ops.TARGET_ADD, [C.slot(reduce_sum(y * eta - w * bm.exp(eta)) + const)])
        return
    ss, rows = m.extra
    if not C.glm(ops.GLM_NORMAL, m.eta, y, aux=aux, weights=w, const=const, extra=(ss, rows)):
        sigma, r = as_expr(aux), y - C.canon(m.eta)
        lp = -(reduce_sum(w * r * r) + ss) / (2.0 * sigma * sigma) - rows * (bm.log(sigma) + 0.5 * np.log(2 * np.pi))
        C.op(ops.TARGET_ADD, [C.slot(lp + const)])
