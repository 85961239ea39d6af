"""Exact compression of likelihood rows whose predictors repeat, from sufficient statistics.

A GLM likelihood sum_i log p(y_i | eta_i) over n rows depends on row i only through eta_i, and eta_i
depends on row i only through its data (gather indices, data columns, data-matrix rows). Rows with
equal data therefore share eta, and each family's sum over them is a function of a few sums over the
rows of each distinct combination (a *cell*), so the likelihood is evaluated once per cell:

- Bernoulli / Binomial-logit: successes and trials summed per cell: sum_c [Y_c eta_c - N_c log(1 + e^eta_c)].
- Poisson-log: counts summed per cell, and a data offset in eta (log exposure) taken out of the cell key:
  eta_i = o_i + eta_c gives sum_c [Y_c eta_c - (sum_i e^o_i) e^eta_c] + sum_i y_i o_i.
- Normal with one sigma: cell counts N_c, means ybar_c and the within-cell sum of squares S:
  -(sum_c N_c (ybar_c - mu_c)^2 + S) / (2 sigma^2) - n log(sigma sqrt(2 pi)).
Nothing is dropped: the constants (log n-choose-y, -log y!) are the full data's, so the compressed log
density equals the row-by-row one (to rounding).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import ops, portable
from ..model.expr import Const, Op, sum_terms
from .rows import distinct_rows, restrict, row_leaves

MIN_ROWS = 64  # fewer rows than this are not worth a compression pass


@dataclass
class Cells:
    """A likelihood over merged rows: eta at each cell and the per-cell data the family needs."""
    eta: object                  # expression of K values
    y: np.ndarray                # successes / counts / means per cell
    weights: np.ndarray | None   # binomial trials, Poisson exposure, normal counts
    const: float = 0.0           # added to the log density (offset terms)
    extra: tuple = ()            # normal: (within-cell sum of squares, rows)
    rows: int = 0
    info: dict = field(default_factory=dict)


def _split_offsets(eta, n, family):
    """(data offset column or None, the rest of eta) for a Poisson sum eta = o + rest."""
    if family != ops.GLM_POISSON:
        return None, eta
    terms = sum_terms(eta)
    offs = [t for t in terms if isinstance(t, Const) and t.size == n]
    rest = [t for t in terms if not (isinstance(t, Const) and t.size == n)]
    if not offs:
        return None, eta
    if not rest:
        rest = [Const(np.zeros(eta.shape))]
    out = rest[0]
    for t in rest[1:]:
        out = Op("binary", [out, t], eta.shape, code=ops.ADD)
    return np.sum([np.ravel(t.value) for t in offs], axis=0), out


def cells(family, eta, y, trials=None, max_fraction=0.8):
    """(Cells, None) when merging rows pays, else (None, why not). eta is canonical, of y's shape."""
    y = np.ravel(y)
    n = y.size
    if n < MIN_ROWS:
        return None, None
    offset, rest = _split_offsets(eta, n, family)
    cols, why = row_leaves(rest, n)
    if cols is None:
        return None, f"rows not merged: {why}"
    first, inv = distinct_rows(cols, n)
    k = len(first)
    if k > max_fraction * n:
        why = (f"rows not merged: {k:,} of {n:,} rows have distinct predictors "
               f"(merging pays below {max_fraction:.0%})")
        widest = max(len(np.unique(c)) for c in cols)
        if widest > max_fraction * n:
            why += (f"; one data column alone has {widest:,} distinct values (a continuous predictor: expected, "
                    "and the fused op still reads each row once)")
        return None, why
    eta_c = restrict(rest, n, first)
    count = lambda w: np.bincount(inv, weights=w, minlength=k)  # noqa: E731
    out = Cells(eta=eta_c, y=count(y), weights=None, rows=n)
    if family in (ops.GLM_BERNOULLI, ops.GLM_BINOMIAL):
        out.weights = count(np.broadcast_to(1.0 if trials is None else trials, n).astype(np.float64))
    elif family == ops.GLM_POISSON:
        if offset is not None:
            out.weights = count(np.exp(offset))
            out.const = portable.dot(y, offset)
        else:
            out.weights = count(None)
    elif family == ops.GLM_NORMAL:
        counts = count(None)
        out.y = out.y / counts
        resid = y - out.y[inv]
        out.weights = counts
        out.extra = (portable.dot(resid, resid), float(n))
    else:
        return None, None
    return out, None


@dataclass
class MergedRows:
    """Rows of a likelihood merged by their predictor data and response: terms at the first row of each."""
    first: np.ndarray            # a row of each distinct (predictors, response) combination
    counts: np.ndarray           # rows per combination: each term's weight
    etas: list                   # the predictors restricted to ``first`` (flat expressions)


def merge_rows(etas, y, max_fraction=0.8):
    """(MergedRows, None) when rows repeat enough to pay, else (None, why not), for a likelihood whose
    per-row term depends on the row only through row-wise predictors ``etas`` (each of y's rows) and the
    response y. Exact for any family: equal rows have equal terms, so the sum is count x term."""
    y = np.ravel(np.asarray(y, dtype=np.float64))
    n = y.size
    if n < MIN_ROWS:
        return None, None
    cols = []
    for eta in etas:
        c, why = row_leaves(eta, n)
        if c is None:
            return None, f"rows not merged: {why}"
        cols += c
    first, inv = distinct_rows(cols + [y], n)
    k = len(first)
    if k > max_fraction * n:
        return None, (f"rows not merged: {k:,} of {n:,} rows have distinct predictors and response "
                      f"(merging pays below {max_fraction:.0%})")
    counts = np.bincount(inv, minlength=k).astype(np.float64)
    return MergedRows(first, counts, [restrict(eta, n, first) for eta in etas]), None
