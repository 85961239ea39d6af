"""Data side of a formula: columns checked, fixed-effects matrix (formulaic), grouping factors as codes.

The same objects encode new data (a poststratification table) exactly as they encoded the survey:
formulaic's ModelSpec replays contrasts and stateful transforms, and GroupFactor maps labels to the
survey's levels, returning -1 for levels the survey never saw.
"""
from __future__ import annotations

import difflib
import re
import warnings

import numpy as np
import pandas as pd

from .parse import FormulaError, Term


def as_frame(data, what="data") -> pd.DataFrame:
    """A pandas DataFrame from pandas, polars, a pyarrow table or a dict of columns."""
    if isinstance(data, pd.DataFrame):
        return data
    if type(data).__module__.split(".")[0] == "polars":
        # column by column: polars' own to_pandas needs pyarrow, which a polars install need not have
        return pd.DataFrame({c: _polars_column(data[c]) for c in data.columns})
    if hasattr(data, "to_pandas"):  # pyarrow tables
        return data.to_pandas()
    if isinstance(data, dict):
        return pd.DataFrame(data)
    raise TypeError(f"{what} must be a pandas or polars DataFrame (or a dict of columns), got {type(data).__name__}")


def _polars_column(col):
    """A polars Series as a pandas column: an Enum keeps its category order, a Categorical its values."""
    name = str(col.dtype)
    if name.startswith("Enum"):
        return pd.Categorical(col.cast(str).to_list(), categories=list(col.dtype.categories), ordered=True)
    if name.startswith("Categorical"):
        return pd.Categorical(col.cast(str).to_list())
    return col.to_numpy()


def unknown_column_error(formula, frame, name, pos=None, what="data"):
    if pos is None:
        m = re.search(r"(?<![A-Za-z0-9_.])" + re.escape(name) + r"(?![A-Za-z0-9_.])", formula)
        pos = m.start() if m else 0
    close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    cols = ", ".join(str(c) for c in list(frame.columns)[:20]) + (", ..." if frame.shape[1] > 20 else "")
    return FormulaError(formula, pos, f"column '{name}' is not in {what} (columns: {cols}){hint}")


def require_column(formula, frame, term: Term, what="data"):
    if term.text not in frame.columns:
        raise unknown_column_error(formula, frame, term.text, term.start, what)
    return frame[term.text]


def numeric_column(formula, frame, term: Term, what="data", role="column"):
    col = require_column(formula, frame, term, what)
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise TypeError(f"{role} '{term.text}' in {what} must be numeric, got dtype {col.dtype}")
    arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = list(col.index[bad][:5])
        raise ValueError(f"{role} '{term.text}' in {what} has {int(bad.sum())} missing or infinite values "
                         f"(rows {rows}); drop or impute those rows first")
    return arr


def _examples(values, k=5):
    vals = list(pd.unique(np.asarray(values, dtype=object)))
    return ", ".join(repr(v) for v in vals[:k]) + (", ..." if len(vals) > k else "")


def coerce_like(col, survey_kind, name, what):
    """``col`` of new data converted to the survey column's kind of values where that is exact.

    A census read from CSV often holds '1', '2' where the survey held 1, 2 (or the reverse); matching
    by value would treat every cell as unseen. Numbers written as text become numbers when every value
    parses; numbers become text (integers without '.0') when the survey's labels were text. Anything
    else is left for the caller to match (and report).
    """
    numeric = pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
    if survey_kind in "biuf" and not numeric:
        conv = pd.to_numeric(col, errors="coerce")
        bad = conv.isna() & col.notna()
        if bad.any():
            raise ValueError(f"column '{name}' in {what} holds text (e.g. {_examples(col[bad])}) where the survey "
                             "had numbers; recode it to the survey's values")
        return conv
    if survey_kind not in "biuf" and numeric and len(col):
        v = col.to_numpy()
        if v.dtype.kind == "f" and np.all(v == np.round(v)):
            v = v.astype(np.int64)
        return pd.Series(v.astype(str), index=col.index, name=col.name)
    return col


class FixedDesign:
    """A design matrix of formula terms, built by formulaic (population-level terms, or the effects inside
    a grouping term, where ``keep_intercept`` keeps the intercept column as a varying intercept)."""

    def __init__(self, formula, terms, frame, keep_intercept=False):
        from formulaic import model_matrix
        self.formula = formula
        text = " + ".join(t.text for t in terms) if terms else "1"
        self.text = text
        mm = _formulaic_call(lambda: model_matrix(text, frame, na_action="raise"), formula, terms, frame)
        self.spec = mm.model_spec
        # the survey's kind of values per column used, so new data can be coerced to it (coerce_like)
        used = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", text))
        self.kinds = {c: frame[c].dtype.kind for c in frame.columns if str(c) in used}
        names = [str(c) for c in mm.columns]
        self.has_intercept = "Intercept" in names
        self.columns = [c for c in names if keep_intercept or c != "Intercept"]
        self.X = np.ascontiguousarray(mm[self.columns].to_numpy(dtype=np.float64)) if self.columns \
            else np.zeros((len(frame), 0))

    def matrix(self, frame, what="the new data"):
        """The design columns (the intercept only when kept) for new rows, encoded as for the survey."""
        from formulaic.errors import DataMismatchWarning
        changed = {c: coerce_like(frame[c], k, c, what) for c, k in getattr(self, "kinds", {}).items()
                   if c in frame.columns}
        changed = {c: v for c, v in changed.items() if v is not frame[c]}
        if changed:
            frame = frame.assign(**{str(c): v for c, v in changed.items()})
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            try:
                mm = _formulaic_call(lambda: self.spec.get_model_matrix(frame, na_action="raise"), self.formula,
                                     [], frame, what)
            except DataMismatchWarning as w:
                raise ValueError(f"{what} has a level of a fixed-effect factor that the survey never saw ({w}); "
                                 "a fixed effect cannot be estimated for an unseen level: drop those rows or "
                                 "model the factor as a varying effect, (1 | factor)") from None
        if not self.columns:
            return np.zeros((len(frame), 0))
        return np.ascontiguousarray(mm[self.columns].to_numpy(dtype=np.float64))


def _formulaic_call(fn, formula, terms, frame, what="data"):
    """Run formulaic, turning its errors into messages that name the column or point into the formula."""
    from formulaic.errors import FactorEvaluationError, FormulaSyntaxError
    try:
        return fn()
    except FactorEvaluationError as e:
        m = re.search(r"`([^`]+)` is not present", str(e))
        if m:
            raise unknown_column_error(formula, frame, m.group(1), what=what) from None
        raise ValueError(f"could not evaluate a fixed-effect term of '{formula}': {e}") from None
    except FormulaSyntaxError as e:
        raise FormulaError(formula, _syntax_position(str(e), terms), "syntax error in the fixed effects: "
                           + str(e).split("\n")[0]) from None
    except ValueError as e:
        m = re.search(r"`([^`]+)` contains null values", str(e))
        if m:
            raise ValueError(f"column '{m.group(1)}' in {what} has missing values; drop or impute those rows "
                             "first") from None
        raise


def _syntax_position(message, terms):
    """Map formulaic's marked position (in the joined fixed-effects text) back into the formula."""
    lines = message.split("\n")
    marked = lines[-1] if lines else ""
    k = marked.find("⧛")
    if k < 0 or not terms:
        return terms[0].start if terms else 0
    offset = 0
    for t in terms:
        if k <= offset + len(t.text):
            return t.start + max(k - offset, 0)
        offset += len(t.text) + 3  # " + "
    return terms[-1].start + len(terms[-1].text)


class GroupFactor:
    """Levels of a grouping factor (one column, or the observed combinations of several)."""

    def __init__(self, formula, frame, columns, start):
        self.columns = list(columns)
        self.categories = []
        codes = []
        for name in self.columns:
            col = require_column(formula, frame, Term(name, formula.find(name, start)))
            missing = col.isna().to_numpy()
            if missing.any():
                rows = list(col.index[missing][:5])
                raise ValueError(f"grouping column '{name}' has {int(missing.sum())} missing values (rows {rows}); "
                                 "drop those rows or give the missing ones their own level")
            if col.dtype.kind == "f":
                v = col.to_numpy()
                frac = v[v != np.round(v)]
                if frac.size:
                    raise ValueError(f"grouping column '{name}' holds non-integer numbers (e.g. {frac[0]:g}; "
                                     f"{pd.unique(v).size} distinct values), which would make every value its own "
                                     f"group; group by labels (integers or strings), or use '{name}' as a "
                                     f"predictor: '... + {name}' or a slope '({name} | g)'")
            cat = pd.Categorical(col)
            self.categories.append(cat.categories)
            codes.append(cat.codes.astype(np.int64))
        combo = np.stack(codes, axis=1)
        levels, inv = np.unique(combo, axis=0, return_inverse=True)
        self.level_codes = levels            # (n_levels, n_columns) per-column category codes
        self.codes = inv.ravel().astype(np.int64)
        self.labels = [self._label(row) for row in levels]

    @property
    def n_levels(self):
        return len(self.labels)

    def _label(self, row, values=None):
        parts = [str(values[j][c - len(self.categories[j])]) if c >= len(self.categories[j]) else
                 str(self.categories[j][c]) for j, c in enumerate(row)]
        return ":".join(parts)

    def encode(self, frame, what="the new data", max_unseen=0.5):
        """(codes, unseen labels): codes index the survey's levels, then len(levels)+u for unseen level u.

        More than ``max_unseen`` of the rows at unseen levels of a column is taken for a coding mismatch
        (e.g. 'ca' against 'CA') and refused; None allows any share.
        """
        per_col, extras = [], []
        for j, name in enumerate(self.columns):
            if name not in frame.columns:
                raise ValueError(f"grouping column '{name}' is not in {what}; it needs every column of the formula "
                                 "except the response")
            col = frame[name]
            if col.isna().any():
                raise ValueError(f"grouping column '{name}' in {what} has {int(col.isna().sum())} missing values; "
                                 "drop those rows or fill them")
            col = coerce_like(col, self.categories[j].dtype.kind, name, what)
            c = self.categories[j].get_indexer(col.to_numpy())
            new = c < 0
            if max_unseen is not None and new.mean() > max_unseen:
                raise ValueError(f"grouping column '{name}' in {what}: {int(new.sum())} of {len(new)} rows have levels "
                                 f"the survey never saw (e.g. {_examples(col.to_numpy()[new])}); the survey's levels "
                                 f"are {_examples(self.categories[j])}. Check spelling, case and type, and recode the "
                                 "column to the survey's labels")
            new_values = pd.unique(col.to_numpy()[new]) if new.any() else np.array([], dtype=object)
            if new.any():
                c = c.copy()
                c[new] = len(self.categories[j]) + pd.Index(new_values).get_indexer(col.to_numpy()[new])
            per_col.append(c.astype(np.int64))
            extras.append(new_values)
        radix = [len(self.categories[j]) + len(extras[j]) for j in range(len(self.columns))]
        key = self._keys(np.stack(per_col, axis=1), radix)
        known = self._keys(self.level_codes, radix)   # sorted: level_codes are lexicographically sorted
        pos = np.searchsorted(known, key)
        pos_c = np.minimum(pos, len(known) - 1)
        seen = known[pos_c] == key
        codes = np.where(seen, pos_c, -1)
        unseen_labels = []
        if not seen.all():
            uk, first, inv = np.unique(key[~seen], return_index=True, return_inverse=True)
            rows = np.stack(per_col, axis=1)[~seen][first]
            unseen_labels = [self._label(r, extras) for r in rows]
            codes[~seen] = self.n_levels + inv.ravel()
        return codes, unseen_labels

    @staticmethod
    def _keys(codes, radix):
        key = np.zeros(len(codes), dtype=np.int64)
        for j, r in enumerate(radix):
            key = key * r + codes[:, j]
        return key
