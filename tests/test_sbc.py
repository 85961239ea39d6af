"""Simulation-based calibration (Talts et al. 2018) on a small hierarchical model: the rank of each
true value among its posterior draws must be uniform (chi-square test at a fixed seed)."""
import warnings

import numpy as np
from scipy import stats

import brr_bayes as bb

J, SIMS, BINS = 4, 120, 10


def _model(y):
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 1)
        tau = bb.HalfNormal("tau", 1)
        z = bb.Normal("z", 0, 1, shape=J)
        bb.Normal("y", mu + tau * z, 1.0, observed=y)
    return m


def _fits():
    """(true value, thinned draws) per simulation and parameter."""
    out = {"mu": [], "tau": []}
    for s in range(SIMS):
        rng = np.random.default_rng([2024, s])
        mu, tau = rng.normal(), abs(rng.normal())
        y = rng.normal(mu + tau * rng.normal(size=J), 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = bb.sample(_model(y), draws=360, tune=300, chains=2, seed=s, progressbar=False)
        for name, true in (("mu", mu), ("tau", tau)):
            out[name].append((true, res.posterior[name][:, ::8].ravel()))  # thinned: 90 draws
    return out


def _uniform_p(fits, shift=0.0):
    n_draws = len(fits[0][1])
    r = np.array([np.sum(d + shift * d.std() < true) for true, d in fits])
    counts = np.bincount(np.minimum(r * BINS // (n_draws + 1), BINS - 1), minlength=BINS)
    return stats.chisquare(counts).pvalue, counts


def test_sbc_ranks_are_uniform_and_a_biased_sampler_is_caught():
    fits = _fits()
    for name, f in fits.items():
        p, counts = _uniform_p(f)
        assert p > 1e-3, (name, p, counts)
    # the same test rejects draws shifted by half a posterior sd
    assert _uniform_p(fits["mu"], shift=0.5)[0] < 1e-3
