"""Recovery of the simulation's true values on W2-W4 (slow): the share of true values inside their
central 90% posterior intervals must be near 90% over hundreds of parameters (binomial bounds), and
every hyper-parameter must lie inside its 99.5% interval."""
import warnings

import numpy as np
import pytest
from scipy import stats

import brr_bayes as bb
import workloads as wl
from workloads.data import W2_BLOCKS


def coverage(draws, truth, level=0.90):
    lo, hi = np.quantile(draws.reshape(-1, *truth.shape), [(1 - level) / 2, (1 + level) / 2], axis=0)
    return ((truth >= lo) & (truth <= hi)).ravel()


def check(res, vector_truths, scalar_truths):
    inside = np.concatenate([coverage(res.posterior[k], np.asarray(v)) for k, v in vector_truths.items()])
    n = inside.size
    lo, hi = stats.binom.ppf([0.0005, 0.9995], n, 0.9) / n
    assert lo <= inside.mean() <= hi, (inside.mean(), n, lo, hi)
    for k, v in scalar_truths.items():
        d = res.posterior[k].ravel()
        q = np.quantile(d, [0.0025, 0.9975])
        assert q[0] <= v <= q[1], (k, v, q)


def sample(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(model, draws=1000, tune=1000, chains=4, seed=11, progressbar=False)


@pytest.mark.slow
def test_w2_recovers_the_simulated_effects():
    d = wl.make_w2(100_000)
    res = sample(wl.mrp_logit(d))
    check(res, {f"z_{n}": d[f"true_z_{n}"] for n, _, _ in W2_BLOCKS} | {"beta": d["true_beta"]},
          {f"sigma_{n}": float(d[f"true_sigma_{n}"]) for n, _, _ in W2_BLOCKS} | {"b_female": float(d["true_b_female"])})


@pytest.mark.slow
def test_w4_recovers_the_simulated_walks():
    d = wl.make_w4()
    res = sample(wl.poll_rw(d))
    check(res, {"z_house": d["true_z_house"], "z_off": d["true_z_off"]},
          {k: float(d[f"true_{k}"]) for k in ("sigma_nat", "sigma_off", "sigma_house", "sigma_state")})


@pytest.mark.slow
def test_w3_recovers_the_spatial_field():
    d = wl.make_w3()
    res = sample(wl.bym2(d))
    check(res, {"theta": d["true_theta"]}, {k: float(d[f"true_{k}"]) for k in ("alpha", "beta", "sigma", "rho")})
