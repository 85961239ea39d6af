"""Benchmark plumbing that must not silently drift: the bundled W5 data and the Stan peer's inputs."""
import json
import os
import sys

import numpy as np
import pytest

from harness import peers_stan
from workloads import make_w1, make_w2, make_w5, radon

RADON = os.path.join(os.path.dirname(__file__), "data", "posteriordb", "supplementary",
                     "radon_all-radon_variable_intercept_slope_noncentered", "data.json")


def test_bundled_radon_is_posteriordb_data():
    ref = json.load(open(RADON))
    d = make_w5()
    assert int(d["N"]) == ref["N"] and int(d["J"]) == ref["J"]
    np.testing.assert_array_equal(d["county"] + 1, ref["county_idx"])
    np.testing.assert_array_equal(d["floor_measure"], ref["floor_measure"])
    np.testing.assert_array_equal(d["log_radon"], ref["log_radon"])


def test_w5_model_matches_posteriordb_dimension():
    m = radon(make_w5())
    assert m.dim == 777
    assert np.isfinite(m.logp(np.zeros(m.dim)))


def test_stan_data_is_one_based_and_complete():
    d = peers_stan.data("W2", make_w2(10_000))
    assert min(d["state"]) == 1 and max(d["state"]) == 50 and max(d["state_race"]) <= 200
    assert len(d["y"]) == d["N"] == 10_000 and not any(k.startswith("true_") for k in d)
    d5 = peers_stan.data("W5", make_w5())
    assert min(d5["county_idx"]) == 1 and max(d5["county_idx"]) == d5["J"]
    assert peers_stan.data("W1", make_w1())["J"] == 8
    for w in ("W1", "W2", "W3", "W4", "W5"):
        assert "model {" in peers_stan.program(w)


def test_stan_backend_reports_why_when_missing(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_stan(name, *args, **kwargs):
        if name in ("cmdstanpy", "stan", "httpstan"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_stan)
    kind, why = peers_stan.backend()
    assert kind is None and "cmdstanpy is not installed" in why and "PyStan is not installed" in why


def test_pystan_draws_keep_their_chains(monkeypatch):
    """PyStan's fit[name] flattens (draw, chain) with the chain fastest (stan/fit.py: a C-order reshape of
    _draws[param, draw, chain]); unscrambling it wrongly mixes chains and inflates ESS (a real bug here once)."""
    import types
    chains, draws = 3, 5
    # a fake fit whose value encodes (chain, draw) as 10 * chain + draw, laid out as PyStan lays it out
    vals = np.array([[10 * c + d for c in range(chains)] for d in range(draws)], dtype=float).reshape(-1)

    class Fit:
        param_names, dims = ["mu"], [[]]

        def __getitem__(self, name):
            return vals if name == "mu" else np.zeros(chains * draws)
    model = types.SimpleNamespace(sample=lambda **kw: Fit())
    # a stand-in for the `stan` module: the layout is PyStan's, the reading is ours
    monkeypatch.setitem(sys.modules, "stan", types.SimpleNamespace(build=lambda *a, **k: model))
    _, _, post, _ = peers_stan._sample_pystan("W1", make_w1(), 1, draws, 0, chains)
    expected = np.array([[10 * c + d for d in range(draws)] for c in range(chains)], dtype=float)
    np.testing.assert_array_equal(post["mu"], expected)
