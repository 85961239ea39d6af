"""bb.GLM / bb.glm: a multilevel GLM from an lme4/brms formula, built on the model API.

Population-level terms become data columns times coefficients and grouping terms become non-centred
group effects gathered by level code, so the compiler fuses the whole linear predictor into one
LinearPredictor op and, for Bernoulli/Binomial responses, compresses repeated rows into cells.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..infer.sampling import sample
from ..model import Deterministic, Model, distributions as D
from ..model.expr import as_expr, constant_value, stack
from ..model.transforms import Ordered
from .design import FixedDesign, GroupFactor, as_frame, numeric_column
from .families import get_family
from .parse import FormulaError, Term, parse_formula
from .poststratify import poststratify


@dataclass
class VaryingTerm:
    """One grouping term: effects (columns of ``design``) varying over the levels of ``factor``."""
    key: str              # variable suffix: "state", "state:race" (or "state_2" when repeated)
    factor: GroupFactor
    design: FixedDesign   # the effects inside the bars, intercept kept; design.X holds their survey values
    correlated: bool

    @property
    def K(self):
        return len(self.design.columns)

    @property
    def intercept_only(self):
        return self.design.columns == ["Intercept"]

    @property
    def effect_dim(self):
        return f"{self.key}_effect"


class GLM:
    """A multilevel generalised linear model from a formula, ready to sample.

    Syntax as in lme4/brms: ``y ~ 1 + x + f + (1 | g) + (1 | g1:g2) + (1 + x | g) + offset(o)``;
    ``(x || g)`` gives uncorrelated varying effects, ``(1 | g1/g2)`` nests (g1 and g1:g2), and the
    binomial response is written ``y | trials(n) ~ ...``. Fixed effects go through formulaic
    (categorical columns get treatment contrasts, ``C()``, ``center()`` and interactions work).

    Variables: ``Intercept``, ``b`` (dims ``coef``), per grouping term ``sd_<g>``, ``z_<g>`` (standard
    normals), ``r_<g>`` (the effects, dims ``<g>`` with the level labels), ``L_<g>`` (Cholesky factor
    of the correlation, for correlated varying slopes), and the family's ``sigma``/``nu``/``phi``.
    Default priors are listed in ``brr_bayes.formula.families``; ``priors=`` overrides any of them by
    name (``"Intercept"``, ``"b"``, a coefficient such as ``"z_inc"``, ``"sd"``, ``"sd_state"``,
    ``"cor"``/``"cor_state"`` (LKJ eta), ``"sigma"``, ``"nu"``, ``"phi"``) with a ``bb.X.dist(...)``.

    Example:
        >>> import numpy as np, pandas as pd, brr_bayes as bb
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"g": rng.choice(list("abcd"), 200), "x": rng.normal(size=200)})
        >>> df["y"] = (rng.random(200) < 0.5).astype(int)
        >>> m = bb.GLM("y ~ 1 + x + (1 | g)", df, family="bernoulli", priors={"sd": bb.HalfNormal.dist(0.5)})
        >>> m.model.param_names
        ['Intercept', 'b', 'sd_g', 'z_g']
    """

    def __init__(self, formula, data, family="gaussian", priors=None, *, trials=None, offset=None):
        self.formula = formula
        self.family = get_family(family)
        self.parsed = parse_formula(formula)
        frame = as_frame(data)
        self.n_rows = len(frame)
        if self.n_rows == 0:
            raise ValueError("data has no rows")
        p = self.parsed
        self.response = p.response.text
        self.y = numeric_column(formula, frame, p.response, role="response")
        if self.family.ordinal or self.family.categorical:
            self.categories = self._category_count()
        self.trials_term = self._trials_term(trials)
        self.trials = (numeric_column(formula, frame, self.trials_term, role="trials column")
                       if self.trials_term else None)
        self.offset_terms = list(p.offsets) + ([Term(offset, -1)] if isinstance(offset, str) else [])
        self.offset = sum((numeric_column(formula, frame, t, role="offset column") for t in self.offset_terms),
                          np.zeros(self.n_rows))
        if offset is not None and not isinstance(offset, str):
            arr = np.asarray(offset, dtype=np.float64)
            if arr.shape != (self.n_rows,) or not np.all(np.isfinite(arr)):
                raise ValueError(f"offset must be a column name or a finite array of length {self.n_rows}")
            self.offset = self.offset + arr
            self._offset_array = arr
        else:
            self._offset_array = None
        self.fixed = FixedDesign(formula, p.fixed, frame)
        self.varying = self._varying_terms(frame)
        self.priors = self._check_priors(priors or {})
        self.model = self._build_model()

    # ------------------------------------------------------------------ data
    def _category_count(self):
        y = self.y
        if np.any(y < 0) or np.any(y != np.round(y)):
            bad = y[(y < 0) | (y != np.round(y))][0]
            raise ValueError(f"family '{self.family.name}': the response '{self.response}' must hold category ids "
                             f"0..K-1 (lowest category 0), got {bad}; recode it, e.g. with pd.Categorical(..., "
                             "ordered=True).codes")
        K = int(y.max()) + 1
        seen = np.bincount(y.astype(np.int64), minlength=K)
        if K >= 2 and seen[0] == 0:
            low = int(np.flatnonzero(seen)[0])
            raise ValueError(f"family '{self.family.name}': the response '{self.response}' holds categories {low}..{K - 1}, "
                             f"so category 0 is never observed; categories are ids 0..K-1 here (brms and Stan count "
                             f"from 1), and an unobserved lowest category would be fitted as one more category that "
                             f"only its prior identifies. Recode the response, e.g. y - {low}")
        if K >= 2 and np.any(seen == 0):
            gaps = np.flatnonzero(seen == 0).tolist()
            warnings.warn(f"family '{self.family.name}': the response '{self.response}' never takes categories {gaps} of "
                          f"0..{K - 1}; each is fitted as a category of its own that only the prior identifies. If they "
                          "are not on the scale, recode the response to consecutive ids", UserWarning, stacklevel=4)
        if K < 2:
            raise ValueError(f"family '{self.family.name}': the response '{self.response}' has a single category; a "
                             "model of categories needs at least 2")
        return K

    @property
    def has_intercept(self):
        """An intercept term: ordinal families have none (the cutpoints take its place)."""
        return self.fixed.has_intercept and not self.family.ordinal

    def _trials_term(self, trials):
        term = self.parsed.trials or (Term(trials, -1) if trials is not None else None)
        if self.family.needs_trials and term is None:
            raise ValueError("family 'binomial' needs the number of trials: write 'y | trials(n) ~ ...' or pass "
                             "trials='n'")
        if term is not None and not self.family.needs_trials:
            raise ValueError(f"trials are only used by family 'binomial', not '{self.family.name}'")
        return term

    def _varying_terms(self, frame):
        terms, seen, effects = [], {}, {}
        for g in self.parsed.groups:
            factor = GroupFactor(self.formula, frame, g.factors, g.start)
            design = FixedDesign(self.formula, [g.inner], frame, keep_intercept=True)
            if not design.columns:
                raise ValueError(f"grouping term ({g.inner.text} | {g.label}) has no effects")
            again = [c for c in design.columns if c in effects.get(g.label, ())]
            if again:
                # two sds for one effect on one grouping cannot be told apart (an unidentified posterior)
                raise FormulaError(self.formula, g.start, f"({g.inner.text} | {g.label}) repeats the varying effect(s) "
                                   f"{again} of an earlier term on '{g.label}'; write each effect once per grouping, "
                                   f"e.g. (1 + x | {g.label}) for an intercept and a slope")
            effects.setdefault(g.label, set()).update(design.columns)
            seen[g.label] = seen.get(g.label, 0) + 1
            key = g.label if seen[g.label] == 1 else f"{g.label}_{seen[g.label]}"
            terms.append(VaryingTerm(key, factor, design, g.correlated))
        return terms

    @property
    def s_y(self):
        if not self.family.continuous:
            return 1.0
        return float(np.std(self.y)) or 1.0

    # ------------------------------------------------------------------ priors
    def prior_names(self):
        names = ["b", "sd", "cor"] + (["Intercept"] if self.has_intercept else []) + list(self.fixed.columns)
        for t in self.varying:
            names += [f"sd_{t.key}", f"cor_{t.key}"]
        return names + list(self.family.aux)

    def _check_priors(self, priors):
        if not isinstance(priors, dict):
            raise TypeError("priors must be a dict {term name: bb.Distribution.dist(...)}, e.g. "
                            "{'sd': bb.HalfNormal.dist(1)}")
        valid = self.prior_names()
        for k, v in priors.items():
            if k not in valid:
                raise ValueError(f"priors: unknown term '{k}'; this model's terms are {valid}")
            if k == "cor" or k.startswith("cor_"):
                if not np.isscalar(v) or not v > 0:
                    raise ValueError(f"priors['{k}'] is the LKJ concentration eta and must be a number > 0, got {v!r}")
            elif not isinstance(v, D.Distribution):
                raise TypeError(f"priors['{k}'] must be a distribution such as bb.Normal.dist(0, 1), got {v!r}")
        return dict(priors)

    def _coef_prior(self):
        cols = self.fixed.columns
        sd_x = np.std(self.fixed.X, axis=0) if cols else np.zeros(0)
        default_scale = 2.5 * self.s_y / np.where(sd_x > 0, sd_x, 1.0)
        per = {c: self.priors[c] for c in cols if c in self.priors}
        base = self.priors.get("b")
        if not per:
            return base if base is not None else D.Normal.dist(np.zeros(len(cols)), default_scale)
        dists = [per.get(c, base) or D.Normal.dist(0.0, default_scale[k]) for k, c in enumerate(cols)]
        kinds = {type(d) for d in dists}
        if len(kinds) > 1:
            raise ValueError("priors on the coefficients 'b' must share one distribution family to form one vector, "
                             f"got {sorted(k.__name__ for k in kinds)}; give the others the same family")
        cls = kinds.pop()
        stacked = []
        for n in cls.param_names:
            vals = [constant_value(d.params[n]) for d in dists]
            if any(v is None or np.size(v) != 1 for v in vals):
                raise ValueError(f"per-coefficient priors must have fixed scalar parameters; '{n}' is not")
            stacked.append(np.array([float(np.ravel(v)[0]) for v in vals]))
        return cls.dist(*stacked)

    def _aux_shape(self, name):
        if name != "cutpoints":
            return {}
        return dict(shape=self.categories - 1, transform=Ordered())

    @staticmethod
    def _register(model, name, dist, **kw):
        d = object.__new__(type(dist))   # a renamed copy; Distribution.__new__ would register a variable
        d.__dict__.update(dist.__dict__)
        d.var_name = name
        return model.register_rv(name, d, **kw)

    # ------------------------------------------------------------------ model
    def _build_model(self):
        coords = {"coef": list(self.fixed.columns)}
        for t in self.varying:
            coords[t.key] = list(t.factor.labels)
            if t.K > 1:
                coords[t.effect_dim] = list(t.design.columns)
        s_y = self.s_y
        with Model(coords=coords) as m:
            if self.family.categorical:
                # one linear predictor per category against category 0 (the reference), its parameters
                # suffixed _1 ... _{K-1}; the logits of the reference are 0
                etas = [self._linear_predictor(m, s_y, f"_{k}") for k in range(1, self.categories)]
                logits = stack([as_expr(np.zeros(self.n_rows))] + etas, axis=-1)
                D.Categorical(self.response, logits=logits, observed=self.y)
                return m
            eta = self._linear_predictor(m, s_y)
            aux = {n: self._register(m, n, self.priors.get(n, self.family.default_aux_prior(n, s_y)),
                                     **self._aux_shape(n))
                   for n in self.family.aux}
            self.family.likelihood(self.response, eta, self.y, aux, trials=self.trials)
        return m

    def _linear_predictor(self, m, s_y, suffix=""):
        """Register one linear predictor's parameters (names + suffix) and return it over the rows."""
        terms = []
        if self.has_intercept:
            mean_y = float(np.mean(self.y)) if self.family.continuous else 0.0
            a = self._register(m, "Intercept" + suffix, self.priors.get("Intercept", D.Normal.dist(mean_y, 2.5 * s_y)))
            terms.append(a)
        if self.fixed.columns:
            b = self._register(m, "b" + suffix, self._coef_prior(), dims="coef")
            terms += [as_expr(self.fixed.X[:, k]) * b[k] for k in range(len(self.fixed.columns))]
        if np.any(self.offset != 0):
            terms.append(as_expr(self.offset))
        for t in self.varying:
            terms += self._varying_block(m, t, s_y, suffix)
        if not terms and self.family.ordinal:   # cutpoints alone: the categories' shares
            terms.append(as_expr(np.zeros(self.n_rows)))
        if not terms:
            raise ValueError(f"the formula '{self.formula}' has no terms; add an intercept ('1') or predictors")
        eta = terms[0]
        for term in terms[1:]:
            eta = eta + term
        if eta.size == 1:
            eta = eta + as_expr(np.zeros(self.n_rows))
        return eta

    def _varying_block(self, m, t: VaryingTerm, s_y, suffix=""):
        key = t.key + suffix
        sd_prior = self.priors.get(f"sd_{t.key}", self.priors.get("sd", D.HalfNormal.dist(s_y)))
        if t.K == 1:
            sd = self._register(m, f"sd_{key}", sd_prior)
            z = D.Normal(f"z_{key}", 0.0, 1.0, dims=t.key)
            r = Deterministic(f"r_{key}", sd * z, dims=t.key)
            g = r[t.factor.codes]
            return [g if t.intercept_only else as_expr(t.design.X[:, 0]) * g]
        sd = self._register(m, f"sd_{key}", sd_prior, dims=t.effect_dim)
        z = D.Normal(f"z_{key}", 0.0, 1.0, dims=(t.key, t.effect_dim))
        if t.correlated:
            eta_lkj = self.priors.get(f"cor_{t.key}", self.priors.get("cor", 2.0))
            L = D.LKJCholesky(f"L_{key}", t.K, eta_lkj)
            scale = sd[:, None] * L                       # diag(sd) L: Cholesky factor of the covariance
            r = Deterministic(f"r_{key}", (z[:, None, :] * scale[None, :, :]).sum(axis=2),
                              dims=(t.key, t.effect_dim))
        else:
            r = Deterministic(f"r_{key}", z * sd[None, :], dims=(t.key, t.effect_dim))
        out = []
        for k, col in enumerate(t.design.columns):
            g = r[t.factor.codes, k]
            out.append(g if col == "Intercept" else as_expr(t.design.X[:, k]) * g)
        return out

    # ------------------------------------------------------------------ fitting
    def fit(self, **sample_kwargs) -> "GLMFit":
        """Sample the posterior with bb.sample (same keyword arguments) and return a GLMFit."""
        return GLMFit(self, sample(self.model, **sample_kwargs))

    def __repr__(self):
        return (f"GLM('{self.formula}', family='{self.family.name}', rows={self.n_rows}, "
                f"parameters={self.model.dim})")


class GLMFit:
    """A sampled GLM: ``.glm`` (the spec and model), ``.result`` (the bb.Result), and shortcuts."""

    def __init__(self, glm: GLM, result):
        self.glm, self.result = glm, result

    @property
    def model(self):
        return self.glm.model

    def summary(self, var_names=None, **kwargs):
        """ArviZ summary table; by default of the population-level terms and the group sds."""
        if var_names is None:
            var_names = [n for n in self.result.posterior
                         if (n.rsplit("_", 1)[0] if self.glm.family.categorical else n) in ("Intercept", "b")
                         or n.startswith("sd_") or n in self.glm.family.aux]
        return self.result.summary(var_names=var_names, **kwargs)

    def to_inference_data(self, **kwargs):
        return self.result.to_inference_data(**kwargs)

    def poststratify(self, table, weights, by=None, **kwargs):
        """See bb.poststratify."""
        return poststratify(self, table, weights, by=by, **kwargs)

    def __repr__(self):
        return f"GLMFit({self.glm!r}, {self.result!r})"


def glm(formula, data, family="gaussian", priors=None, *, trials=None, offset=None, **sample_kwargs) -> GLMFit:
    """Build a multilevel GLM from a formula and sample it (bb.GLM(...).fit(**sample_kwargs)).

    Example:
        >>> import numpy as np, pandas as pd, brr_bayes as bb
        >>> rng = np.random.default_rng(1)
        >>> df = pd.DataFrame({"state": rng.choice(["CA", "NY", "TX"], 300), "x": rng.normal(size=300)})
        >>> df["vote"] = (rng.random(300) < 0.4).astype(int)
        >>> fit = bb.glm("vote ~ 1 + x + (1 | state)", df, family="bernoulli",
        ...              draws=200, tune=200, chains=2, seed=1, progressbar=False)
        >>> fit.result.posterior["r_state"].shape
        (2, 200, 3)
    """
    return GLM(formula, data, family, priors, trials=trials, offset=offset).fit(**sample_kwargs)
