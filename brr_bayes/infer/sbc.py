"""Simulation-based calibration (Talts et al. 2018; the ECDF test and plot of Säilynoja, Bürkner and Vehtari
2022): draw parameters and data from a generative process, fit each simulated data set, and check that
the rank of each true value among its posterior draws is uniform. A model whose likelihood does not match
the process that made the data (a wrong scale, a wrong link), or an engine that samples the wrong
posterior, shows as ranks piled at the ends or in the middle."""
from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from ..model import Model
from .predictive import sample_prior_predictive
from .sampling import sample
from .seeds import resolve_seed

NULL_DRAWS = 4000   # simulated uniform rank sets behind the test's null distribution and the bands


class SBCResult:
    """The ranks of a calibration run and their test.

    Attributes:
        ranks: {name: int array (n_sims, *shape)}: how many of the ``n_draws`` kept posterior draws fell below
            the true value, per simulation and element.
        n_draws: the posterior draws each rank counts among (ranks run from 0 to n_draws).
        p_values: {name: array (*shape)}: the ECDF test's p-value per element (uniform ranks: p uniform).
        alpha: the family-wise level; ``passed`` is whether every p-value is at least alpha over the number
            of elements tested (Bonferroni).
    """

    def __init__(self, ranks, n_draws, alpha, seed):
        self.ranks, self.n_draws, self.alpha, self.seed = ranks, int(n_draws), float(alpha), seed
        rng = np.random.default_rng([0 if seed is None else int(seed) % 2 ** 32, 7])
        n = next(iter(ranks.values())).shape[0]
        self._null = _null_min_p(n, self.n_draws, rng)
        self.p_values = {k: np.apply_along_axis(self._p_value, 0, v) for k, v in ranks.items()}

    @property
    def tests(self):
        return sum(int(np.size(p)) for p in self.p_values.values())

    @property
    def failed(self):
        """The elements whose ranks are not uniform at the family-wise level, as ``"name[i, j]"``."""
        cut = self.alpha / max(self.tests, 1)
        out = []
        for k, p in self.p_values.items():
            for idx in zip(*np.nonzero(np.atleast_1d(p) < cut)):
                out.append(k if np.ndim(p) == 0 else f"{k}[{', '.join(map(str, idx))}]")
        return out

    @property
    def passed(self):
        return not self.failed

    def _p_value(self, r):
        return float((np.sum(self._null <= float(_min_p(r, self.n_draws))) + 1) / (self._null.size + 1))

    def summary(self):
        """pandas DataFrame: per element its p-value and whether it passes the family-wise test."""
        import pandas as pd
        cut = self.alpha / max(self.tests, 1)
        rows = []
        for k, p in self.p_values.items():
            for idx in np.ndindex(np.shape(p)):
                name = k if not idx else f"{k}[{', '.join(map(str, idx))}]"
                rows.append((name, float(np.asarray(p)[idx]), bool(np.asarray(p)[idx] >= cut)))
        return pd.DataFrame(rows, columns=["parameter", "p_value", "uniform"]).set_index("parameter")

    def plot(self, var_names=None, ax=None):
        """The ECDF difference plot: each element's rank ECDF minus the uniform's, inside the simultaneous
        1 - alpha band that uniform ranks stay inside (Säilynoja et al. 2022). Returns the axes."""
        import matplotlib.pyplot as plt
        names = list(self.ranks) if var_names is None else ([var_names] if isinstance(var_names, str) else var_names)
        n = next(iter(self.ranks.values())).shape[0]
        z, lower, upper = _bands(n, self.n_draws, self.alpha, self._null)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.fill_between(z, lower, upper, color="0.85", step="mid", label=f"{1 - self.alpha:.0%} simultaneous band")
        for k in names:
            r = self.ranks[k].reshape(n, -1)
            for j in range(r.shape[1]):
                ax.step(z, _ecdf(r[:, j], self.n_draws, z) - z, where="mid", lw=1,
                        label=k if r.shape[1] == 1 else (f"{k}[...]" if j == 0 else None))
        ax.axhline(0, color="0.4", lw=0.5)
        ax.set_xlabel("fractional rank")
        ax.set_ylabel("ECDF - uniform")
        ax.legend(fontsize=8)
        return ax

    def __repr__(self):
        return (f"SBCResult({next(iter(self.ranks.values())).shape[0]} simulations, ranks among {self.n_draws} "
                f"draws, {'passed' if self.passed else 'failed: ' + ', '.join(self.failed[:5])})")


def sbc(build, n_sims=100, *, simulate=None, seed=None, draws=400, tune=400, chains=2, thin=4, alpha=0.05,
        var_names=None, progressbar=False, **sample_kwargs) -> SBCResult:
    """Simulation-based calibration of a model: ``n_sims`` data sets simulated, each fitted with
    ``bb.sample``, and the ranks of the true values among the posterior draws tested for uniformity.

    Args:
        build: ``build(observed)`` -> bb.Model. ``observed`` is None for the template model (your data, or
            any of the right shapes) and otherwise a dict of simulated values by observed variable name.
        n_sims: simulated data sets (100 finds gross errors; 1,000 finer ones).
        simulate: ``simulate(rng)`` -> (truth, observed): the process that made the data, as dicts by name;
            default: the template model's own prior and prior predictive draws. Give it to check a model
            against a process written independently of it.
        draws, tune, chains, thin: each fit's settings; ranks count ``chains * draws / thin`` thinned draws
            (thinning makes them nearly independent, which the test assumes).
        alpha: family-wise level of the uniformity test over every element.
        var_names: the parameters to rank (default: every free parameter the truth holds).
        sample_kwargs: passed to ``bb.sample``.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> def build(observed=None):
        ...     with bb.Model() as m:
        ...         mu = bb.Normal("mu", 0, 1)
        ...         _ = bb.Normal("y", mu, 1, observed=np.zeros(5) if observed is None else observed["y"])
        ...     return m
        >>> res = bb.sbc(build, n_sims=20, seed=1, draws=100, tune=100)
        >>> res.ranks["mu"].shape, res.n_draws
        ((20,), 50)
    """
    if not callable(build):
        raise TypeError("sbc: build must be callable: build(observed) -> bb.Model")
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 2:
        raise ValueError(f"sbc: n_sims must be an integer >= 2, got {n_sims!r}")
    if isinstance(thin, bool) or not isinstance(thin, (int, np.integer)) or thin < 1:
        raise ValueError(f"sbc: thin must be a positive integer, got {thin!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"sbc: alpha must be in (0, 1), got {alpha}")
    seed = resolve_seed(seed)
    template = build(None)
    if not isinstance(template, Model):
        raise TypeError(f"sbc: build(None) must return a bb.Model (the template), got {type(template).__name__}")
    if simulate is None:
        prior = sample_prior_predictive(template, draws=int(n_sims), seed=seed)

        def simulated(i):
            return ({k: v[0, i] for k, v in prior["prior"].items()},
                    {k: v[0, i] for k, v in prior["prior_predictive"].items()})
    else:
        if not callable(simulate):
            raise TypeError("sbc: simulate must be callable: simulate(rng) -> (truth, observed)")

        def simulated(i):
            return simulate(np.random.default_rng([seed, i]))
    free = [rv.name for rv in template.free_rvs]
    ranks, n_kept = {}, None
    for i in range(int(n_sims)):
        truth, observed = simulated(i)
        names = [n for n in (var_names or free) if n in truth]
        if not names:
            raise ValueError(f"sbc: the simulated truth names none of the parameters {var_names or free}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sample(build(observed), draws=draws, tune=tune, chains=chains, seed=(seed * 1_000_003 + i) % 2 ** 63,
                         progressbar=progressbar, **sample_kwargs)
        for n in names:
            post = np.asarray(res.posterior[n])[:, ::thin]
            post = post.reshape((-1,) + post.shape[2:])
            n_kept = post.shape[0]
            true = np.asarray(truth[n], dtype=np.float64)
            if true.shape != post.shape[1:]:
                raise ValueError(f"sbc: the truth of '{n}' has shape {true.shape}, the model's is {post.shape[1:]}")
            ranks.setdefault(n, []).append(np.sum(post < true, axis=0))
    return SBCResult({k: np.asarray(v) for k, v in ranks.items()}, n_kept, alpha, seed)


def _counts(r, n_draws, z):
    """How many of the rank sets' fractional ranks lie at or below each point of z (along the last axis of r)."""
    u = (np.asarray(r) + 0.5) / (n_draws + 1)
    return (u[..., :, None] <= z).sum(axis=-2)


def _ecdf(r, n_draws, z):
    return _counts(r, n_draws, z) / len(r)


def _grid(n, n_draws):
    k = min(n_draws + 1, n, 100)
    return np.arange(1, k) / k


def _min_p(r, n_draws):
    """The smallest two-sided binomial tail probability of the rank ECDF over the evaluation grid, per rank
    set along the last axis of r."""
    n = np.shape(r)[-1]
    z = _grid(n, n_draws)
    c = _counts(r, n_draws, z)
    p = 2 * np.minimum(stats.binom.cdf(c, n, z), stats.binom.sf(c - 1, n, z))
    return np.minimum(1.0, p.min(axis=-1))


def _null_min_p(n, n_draws, rng):
    """_min_p of NULL_DRAWS sets of n uniform ranks (in blocks of 500)."""
    return np.concatenate([_min_p(rng.integers(0, n_draws + 1, size=(500, n)), n_draws)
                           for _ in range(NULL_DRAWS // 500)])


def _bands(n, n_draws, alpha, null):
    """The simultaneous band of the ECDF difference: pointwise binomial intervals at the level gamma that
    uniform ranks' smallest tail probability stays above with probability 1 - alpha."""
    z = _grid(n, n_draws)
    gamma = float(np.quantile(null, alpha))
    return z, stats.binom.ppf(gamma / 2, n, z) / n - z, stats.binom.ppf(1 - gamma / 2, n, z) / n - z
