"""The vectorised R-hat and bulk ESS give ArviZ's values, including ties, odd draw counts, one chain,
constant and NaN parameters."""
import logging
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brr_bayes import convergence as cv

az = pytest.importorskip("arviz")
logging.getLogger("arviz").setLevel(logging.ERROR)  # its shape warning for a single chain


def _arviz(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = az.convert_to_dataset({"x": x})
        return az.rhat(ds)["x"].values, az.ess(ds, method="bulk")["x"].values


def _ar1(rng, chains, draws, phi, offset, decimals):
    x = np.zeros((chains, draws, len(phi)))
    e = rng.normal(size=x.shape)
    for t in range(draws):
        x[:, t] = (x[:, t - 1] * phi if t else 0.0) + e[:, t]
    x = x + offset * rng.normal(size=(chains, 1, len(phi)))  # chains that disagree raise R-hat
    return np.round(x, decimals) if decimals is not None else x


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), chains=st.integers(1, 4), draws=st.integers(4, 90),
       phi=st.lists(st.floats(-0.95, 0.99), min_size=1, max_size=3), offset=st.floats(0, 3),
       decimals=st.sampled_from([None, None, 1, 0]))
def test_matches_arviz(seed, chains, draws, phi, offset, decimals):
    x = _ar1(np.random.default_rng(seed), chains, draws, np.array(phi), offset, decimals)
    r_ref, e_ref = _arviz(x)
    r, e = cv.rhat_and_ess_bulk(x)
    np.testing.assert_allclose(r, r_ref, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(e, e_ref, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(cv.rhat(x), r_ref, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(cv.ess_bulk(x), e_ref, rtol=1e-10, equal_nan=True)


def test_edge_cases_match_arviz():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 41, 4))
    x[..., 1] = 2.5          # constant: ESS is the number of draws, R-hat undefined
    x[0, 7, 2] = np.nan      # a NaN draw makes both NaN
    x[..., 3] = np.round(x[..., 3])  # heavy ties
    r_ref, e_ref = _arviz(x)
    r, e = cv.rhat_and_ess_bulk(x)
    np.testing.assert_allclose(r, r_ref, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(e, e_ref, rtol=1e-10, equal_nan=True)
    assert e[1] == 3 * 40 and np.isnan(e[2]) and np.isnan(r[2])


def test_shapes_and_too_few_draws():
    x = np.random.default_rng(2).normal(size=(2, 30, 3, 2))
    r, e = cv.rhat_and_ess_bulk(x)
    assert r.shape == e.shape == (3, 2)
    assert np.isnan(cv.rhat(x[:1])).all() and np.isfinite(cv.ess_bulk(x[:1])).all()  # one chain
    assert np.isnan(cv.ess_bulk(x[:, :3])).all()  # fewer than 4 draws
    with pytest.raises(ValueError, match="chain, draw"):
        cv.rhat(np.zeros(5))


def test_blocks_of_parameters_give_the_same_values(monkeypatch):
    # the statistics run over blocks of parameters to bound their memory; any block size gives the
    # values of one pass, NaN parameters (skipped) included
    from brr_bayes.infer import convergence as cv
    x = np.random.default_rng(3).normal(size=(6, 40, 7, 3))
    x[:, :, 2, 1] = np.nan
    x[:, :, 4, 0] = 1.0                                   # constant: ESS is the draw count
    whole = cv.rhat(x), cv.ess_bulk(x), cv.rhat_and_ess_bulk(x)
    for size in (1, 240, 241, 1000):                      # one parameter's draws = 240
        monkeypatch.setattr(cv, "_BLOCK_VALUES", size)
        assert len(cv._blocks(np.zeros((21, 6, 40)))) == (21 if size <= 240 else -(-21 // (size // 240)))
        got = cv.rhat(x), cv.ess_bulk(x), cv.rhat_and_ess_bulk(x)
        np.testing.assert_array_equal(got[0], whole[0])
        np.testing.assert_array_equal(got[1], whole[1])
        np.testing.assert_array_equal(got[2][0], whole[2][0])
        np.testing.assert_array_equal(got[2][1], whole[2][1])


def test_benchmark_helpers_give_arviz_min_ess_and_max_rhat():
    # benchmarks/ report min bulk ESS and max R-hat through these (vectorised) helpers
    from harness import _max_rhat, _min_bulk_ess
    rng = np.random.default_rng(5)
    post = {"a": rng.normal(size=(4, 300)), "b": rng.normal(size=(4, 300, 3)).cumsum(axis=1)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = az.convert_to_dataset(post)
        ess = min(float(az.ess(ds, method="bulk")[k].min()) for k in post)
        rh = max(float(az.rhat(ds)[k].max()) for k in post)
    np.testing.assert_allclose(_min_bulk_ess(post, list(post)), ess, rtol=1e-10)
    np.testing.assert_allclose(_max_rhat(post, list(post)), rh, rtol=1e-10)


@pytest.mark.parametrize("draws", [14, 44])
def test_autocovariance_lengths_whose_fast_fft_is_odd(draws):
    # split chains of 7 and 22 draws: the fast FFT length for 2n is odd (15, 45), and the
    # autocovariance's cosine transform needs an even one
    x = _ar1(np.random.default_rng(draws), 3, draws, np.array([0.7, -0.3]), 0.2, None)
    r_ref, e_ref = _arviz(x)
    r, e = cv.rhat_and_ess_bulk(x)
    np.testing.assert_allclose(e, e_ref, rtol=1e-10)
    np.testing.assert_allclose(r, r_ref, rtol=1e-10)
