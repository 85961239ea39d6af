"""Poststratification: posterior draws of population-weighted mean predictions, by group.

For each posterior draw, the expected response of every cell of the population table (probability
for bernoulli/binomial, mean for the others) is weighted by the cell's count and averaged within
groups. Cells are processed in chunks, so draws x cells never has to fit in memory at once.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special

from ..infer.result import Result
from .design import as_frame

_BLOCK_ROWS = 1 << 18        # rows encoded by formulaic at a time
_CHUNK_VALUES = 1 << 23      # draws x cells per chunk (64 MB of float64)
_TABLE = "the poststratification table"   # how error messages name the table


class Poststratification:
    """Draws of weighted mean predictions: ``draws`` is an xarray DataArray (chain, draw, group).

    ``groups`` is a DataFrame with the ``by`` columns for each group (one row, "all", when by=None);
    ``unseen`` maps each grouping term to the labels of levels drawn from their prior.
    """

    def __init__(self, draws, groups, by, unseen):
        self.draws, self.groups, self.by, self.unseen = draws, groups, by, unseen

    def summary(self, prob=0.9):
        """Tidy table: the by columns (and the category, for a categorical fit), then mean, sd, the central
        `prob` interval and the median."""
        lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
        if "category" in self.draws.dims:
            K = self.draws.sizes["category"]
            v = self.draws.values.reshape(-1, self.draws.shape[2] * K)
            out = self.groups.loc[self.groups.index.repeat(K)].reset_index(drop=True)
            out["category"] = np.tile(self.draws["category"].values, len(self.groups))
        else:
            v = self.draws.values.reshape(-1, self.draws.shape[-1])
            out = self.groups.copy()
        q = np.quantile(v, [lo, 0.5, hi], axis=0)
        out["mean"], out["sd"] = v.mean(axis=0), v.std(axis=0, ddof=1)
        out[f"q{lo * 100:g}"], out["median"], out[f"q{hi * 100:g}"] = q[0], q[1], q[2]
        return out.reset_index(drop=True)

    def __repr__(self):
        return f"Poststratification(by={self.by}, groups={self.draws.shape[-1]}, draws={self.draws.shape[:2]})"


def _weights(frame, weights):
    if isinstance(weights, str):
        if weights not in frame.columns:
            raise ValueError(f"weights column '{weights}' is not in the poststratification table (columns: "
                             f"{list(frame.columns)[:20]})")
        w = frame[weights].to_numpy(dtype=np.float64, na_value=np.nan)
        name = f"weights column '{weights}'"
    else:
        w = np.asarray(weights, dtype=np.float64)
        name = "weights"
        if w.shape != (len(frame),):
            raise ValueError(f"weights must have one value per row of the table ({len(frame)}), got shape {w.shape}")
    if np.isnan(w).any():
        raise ValueError(f"{name} has {int(np.isnan(w).sum())} missing values; every cell needs its population count")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        bad = w[~np.isfinite(w) | (w < 0)][0]
        raise ValueError(f"{name} must be finite and >= 0 (population counts), got {bad}")
    return w


def _group_ids(frame, by):
    if by is None:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame({"group": ["all"]}), [], "group"
    cols = [by] if isinstance(by, str) else list(by)
    for c in cols:
        if c not in frame.columns:
            raise ValueError(f"by column '{c}' is not in the poststratification table")
        if frame[c].isna().any():
            raise ValueError(f"by column '{c}' has {int(frame[c].isna().sum())} missing values; fill or drop them")
    keys = frame[cols]
    codes = [pd.Categorical(keys[c]) for c in cols]
    combo = np.stack([c.codes.astype(np.int64) for c in codes], axis=1)
    levels, ids = np.unique(combo, axis=0, return_inverse=True)
    groups = pd.DataFrame({c: np.asarray(codes[j].categories)[levels[:, j]] for j, c in enumerate(cols)})
    return ids.ravel(), groups, cols, ":".join(cols)


def _draws(result, name, D):
    a = np.asarray(result.posterior[name], dtype=np.float64)
    return a.reshape((D,) + a.shape[2:])


def _effects(glm, result, D, frame, rng, suffix=""):
    """Per varying term: (codes on the table, effects (D, levels + unseen, K)); unseen labels by term.

    ``suffix`` picks one category's copy of the terms (categorical family: "_1", "_2", ...)."""
    out, unseen = [], {}
    for t in glm.varying:
        codes, new = t.factor.encode(frame, _TABLE)
        r = _draws(result, f"r_{t.key}{suffix}", D).reshape(D, t.factor.n_levels, t.K)
        if new:
            unseen[t.key] = new
            sd = _draws(result, f"sd_{t.key}{suffix}", D).reshape(D, t.K)
            z = rng.standard_normal((D, len(new), t.K))
            if t.K > 1 and t.correlated:
                scale = sd[:, :, None] * _draws(result, f"L_{t.key}{suffix}", D)
                r_new = np.einsum("dkj,duj->duk", scale, z)
            else:
                r_new = z * sd[:, None, :]
            r = np.concatenate([r, r_new], axis=1)
        out.append((codes, np.ascontiguousarray(np.transpose(r, (2, 1, 0)))))   # (K, levels, D)
    return out, unseen


def poststratify(fit, table, weights, by=None, *, offset=None, chunk_size=None, seed=None, prediction=None):
    """Posterior draws of population-weighted mean predictions, aggregated by ``by``.

    ``fit`` is what ``bb.glm`` returns; the predictors of every table row are rebuilt from its formula.
    For a hand-built model, pass its ``bb.Result`` and ``prediction``: the name of a Deterministic
    holding each table row's expected response (one value per row, in the table's order).

    ``table`` holds one row per population cell with every predictor column of the formula and the
    population count ``weights`` (a column name or an array). Levels of grouping factors that the
    survey never saw get effects drawn from their prior (a warning lists them). ``offset`` gives the
    offset values of the table when the model was fitted with an offset array rather than a column.

    Example:
        >>> import numpy as np, pandas as pd, brr_bayes as bb
        >>> rng = np.random.default_rng(1)
        >>> df = pd.DataFrame({"state": rng.choice(["CA", "NY", "TX"], 300), "age": rng.choice(["18-44", "45+"], 300)})
        >>> df["vote"] = (rng.random(300) < 0.4).astype(int)
        >>> fit = bb.glm("vote ~ 1 + (1 | state) + (1 | age)", df, family="bernoulli",
        ...              draws=200, tune=200, chains=2, seed=1, progressbar=False)
        >>> census = pd.DataFrame({"state": ["CA", "CA", "NY", "NY", "TX", "TX"],
        ...                        "age": ["18-44", "45+"] * 3, "n": [900, 700, 500, 450, 800, 600]})
        >>> est = bb.poststratify(fit, census, weights="n", by="state")
        >>> est.draws.shape
        (2, 200, 3)
    """
    import xarray as xr
    if prediction is not None or not hasattr(fit, "glm"):
        return _poststratify_cells(fit, table, weights, by, prediction)
    glm, result = fit.glm, fit.result
    if glm.family.ordinal:
        raise ValueError(f"poststratify: family '{glm.family.name}' predicts a share per category, not one mean; "
                         "poststratify each category's indicator from bb.sample_posterior_predictive draws, or fit "
                         "a binary model of the category of interest")
    frame = as_frame(table, _TABLE)
    if len(frame) == 0:
        raise ValueError("the poststratification table has no rows")
    w = _weights(frame, weights)
    gid, groups, by_cols, dim = _group_ids(frame, by)
    n_groups = len(groups)
    den = np.bincount(gid, weights=w, minlength=n_groups)
    if (den <= 0).any():
        empty = groups[den <= 0].head(5).to_dict("records")
        raise ValueError(f"groups with zero total weight have no poststratified estimate: {empty}")
    chains, n_draws = result.posterior[next(iter(result.posterior))].shape[:2]
    D = chains * n_draws
    off = _table_offset(glm, frame, offset)
    rng = np.random.default_rng(seed if seed is not None else result.seed)
    # one linear predictor, or one per non-reference category (categorical: softmax over [0, eta_1, ...])
    suffixes = [f"_{k}" for k in range(1, glm.categories)] if glm.family.categorical else [""]
    parts, unseen = [], {}
    for sfx in suffixes:
        effects, new = _effects(glm, result, D, frame, rng, sfx)
        unseen.update(new)
        intercept = _draws(result, "Intercept" + sfx, D) if glm.has_intercept else np.zeros(D)
        b = _draws(result, "b" + sfx, D).reshape(D, -1) if glm.fixed.columns else np.zeros((D, 0))
        parts.append((intercept, np.ascontiguousarray(b.T), effects))             # b.T: (p, D)
    if unseen:
        listing = "; ".join(f"{k}: {v[:10]}{' ...' if len(v) > 10 else ''} ({len(v)} levels)"
                            for k, v in unseen.items())
        warnings.warn(f"poststratify: levels not seen in the survey get effects drawn from their prior: {listing}",
                      UserWarning, stacklevel=2)
    n_out = glm.categories if glm.family.categorical else 1
    chunk = int(chunk_size) if chunk_size else max(1, _CHUNK_VALUES // (D * n_out))
    num = np.zeros((n_out, n_groups, D))
    for b0 in range(0, len(frame), _BLOCK_ROWS):
        block = frame.iloc[b0:b0 + _BLOCK_ROWS]
        X = glm.fixed.matrix(block, _TABLE)
        Zs = [None if t.intercept_only else t.design.matrix(block, _TABLE) for t in glm.varying]
        for c0 in range(0, len(block), chunk):
            c1 = min(c0 + chunk, len(block))
            rows = slice(b0 + c0, b0 + c1)
            etas = []
            for intercept, bT, effects in parts:
                # cells x draws, row-major, so gathers copy whole rows and the weighted sum is one sparse product
                eta = X[c0:c1] @ bT
                eta += intercept[None, :]
                eta += off[rows][:, None]
                for (codes, r), Z, t in zip(effects, Zs, glm.varying):
                    cc = codes[rows]
                    for k in range(t.K):
                        g = np.take(r[k], cc, axis=0)
                        if Z is not None:
                            g *= Z[c0:c1, k][:, None]
                        eta += g
                etas.append(eta)
            if glm.family.categorical:
                mus = special.softmax(np.stack([np.zeros_like(etas[0])] + etas), axis=0)
            else:
                mus = [glm.family.inverse_link(etas[0], out=etas[0])]
            W = sp.csr_matrix((w[rows], (gid[rows], np.arange(c1 - c0))), shape=(n_groups, c1 - c0))
            for k, mu in enumerate(mus):
                num[k] += W @ mu
    est = np.moveaxis(num / den[None, :, None], -1, 0).reshape((chains, n_draws, n_out, n_groups))
    labels = groups.astype(str).agg(":".join, axis=1).to_list()
    coords = {"chain": np.arange(chains), "draw": np.arange(n_draws), dim: labels}
    if glm.family.categorical:
        draws = xr.DataArray(np.swapaxes(est, 2, 3), dims=("chain", "draw", dim, "category"),
                             coords=dict(coords, category=np.arange(n_out)))
    else:
        draws = xr.DataArray(est[:, :, 0], dims=("chain", "draw", dim), coords=coords)
    return Poststratification(draws, groups, by_cols, unseen)


def _poststratify_cells(result, table, weights, by, prediction):
    """Weighted means of a hand-built model's per-cell predictions (a Deterministic over the table's rows)."""
    import xarray as xr

    if not isinstance(result, Result):
        raise TypeError(f"poststratify takes the fit returned by bb.glm, or a bb.Result with prediction=; got "
                        f"{type(result).__name__}")
    if prediction is None:
        raise TypeError("poststratify: this result comes from a hand-built model, so the predictors of the table's "
                        "cells cannot be rebuilt from a formula. Add a Deterministic holding each cell's expected "
                        "response, e.g. bb.Deterministic('p_cell', bb.math.inv_logit(alpha + a_state[cell_state])), "
                        "and pass prediction='p_cell' (or fit the model with bb.glm)")
    if prediction not in result.posterior:
        raise ValueError(f"poststratify: prediction '{prediction}' is not a variable of the result (variables: "
                         f"{list(result.posterior)[:20]})")
    frame = as_frame(table, _TABLE)
    pred = np.asarray(result.posterior[prediction], dtype=np.float64)
    if pred.ndim != 3 or pred.shape[2] != len(frame):
        raise ValueError(f"poststratify: prediction '{prediction}' has shape {pred.shape[2:]} per draw but the table "
                         f"has {len(frame)} rows; it needs one value per table row, in the table's order")
    w = _weights(frame, weights)
    gid, groups, by_cols, dim = _group_ids(frame, by)
    n_groups = len(groups)
    den = np.bincount(gid, weights=w, minlength=n_groups)
    if (den <= 0).any():
        raise ValueError(f"groups with zero total weight have no poststratified estimate: "
                         f"{groups[den <= 0].head(5).to_dict('records')}")
    W = sp.csr_matrix((w, (gid, np.arange(len(frame)))), shape=(n_groups, len(frame)))
    chains, n_draws = pred.shape[:2]
    est = (W @ pred.reshape(chains * n_draws, -1).T).T / den[None, :]
    labels = groups.astype(str).agg(":".join, axis=1).to_list()
    draws = xr.DataArray(est.reshape(chains, n_draws, n_groups), dims=("chain", "draw", dim),
                         coords={"chain": np.arange(chains), "draw": np.arange(n_draws), dim: labels})
    return Poststratification(draws, groups, by_cols, {})


def _table_offset(glm, frame, offset):
    n = len(frame)
    if offset is not None:
        arr = np.asarray(offset, dtype=np.float64)
        if arr.shape != (n,) or not np.all(np.isfinite(arr)):
            raise ValueError(f"offset must be a finite array with one value per table row ({n})")
        return arr
    if glm._offset_array is not None:
        raise ValueError("the model was fitted with an offset array; pass offset= with the table's offsets")
    total = np.zeros(n)
    for t in glm.offset_terms:
        if t.text not in frame.columns:
            raise ValueError(f"offset column '{t.text}' is not in the poststratification table")
        col = frame[t.text].to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.all(np.isfinite(col)):
            raise ValueError(f"offset column '{t.text}' in the poststratification table has missing values")
        total += col
    return total
