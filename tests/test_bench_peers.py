"""Benchmark plumbing that must not silently drift: the bundled W5 data and the Stan peer's inputs."""
import json
import os

import numpy as np
import pytest

from brr_bayes.bench import peers_stan
from brr_bayes.workloads import make_w1, make_w2, make_w5, radon

RADON = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "posteriordb", "supplementary",
                     "radon_all-radon_variable_intercept_slope_noncentered", "data.json")


@pytest.mark.skipif(not os.path.exists(RADON), reason="shared/posteriordb not present")
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
