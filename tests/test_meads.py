"""sampler='meads' (MEADS: generalized HMC tuned across folds of chains): the posteriordb reference
posteriors the NUTS tests use, exact moments of known distributions, tuning that learns the scales, the
Result (save/load) as for NUTS, resumes refused where they must be, and bad arguments refused by name.
SBC, thread invariance, resume and checkpoints run for both lock-step samplers in test_chees.py."""
import json
import warnings

import numpy as np
import pytest

import brr_bayes as bb
import posteriordb_models as pm
from test_chees import REFERENCES, _w1
from test_posteriordb import _checker

KW = dict(sampler="meads", chains=64, tune=1000, draws=1000, progressbar=False)


def _quiet(model, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(model, **kw)


@pytest.mark.parametrize("folder,build", REFERENCES, ids=[f[0].split("/")[-1] for f in REFERENCES])
def test_reference_posterior(references, folder, build):
    path = references / folder
    model = build(json.load(open(path / "data.json")))
    res = _quiet(model, seed=20261202, **KW)
    ok, rows = _checker(references)(res.posterior, str(path), verbose=True)
    assert ok, [r for r in rows if r.get("status") != "ok"]
    assert res.sample_stats["diverging"].mean() < 0.01
    assert (res.sample_stats["n_steps"] == 1).all()       # one leapfrog step per iteration after warm-up


@pytest.mark.parametrize("sampler,draws", [("meads", 3000), ("chees", 500)])
def test_exact_moments_of_known_distributions(sampler, draws):
    # a gamma (on the log scale inside), a Student t and normals over two orders of magnitude, whose
    # means and standard deviations are known: every estimate within 4 Monte Carlo standard errors.
    # Sharper than the reference checks: in MEADS a leapfrog with unequal half kicks (not reversible),
    # an accept test that always accepts, or a slice value redrawn instead of rescaled moves some of
    # these by 7-12 standard errors. ChEES, the other lock-step sampler, is held to the same.
    with bb.Model() as m:
        bb.Gamma("g", 2.0, 1.0)
        bb.StudentT("t", 5, 0, 1)
        bb.Normal("x", 0, np.array([0.1, 1.0, 10.0]))
    res = _quiet(m, sampler=sampler, chains=64, tune=1000, draws=draws, seed=12)
    s = res.summary(round_to="none")
    truth = {"g": (2.0, np.sqrt(2.0)), "t": (0.0, np.sqrt(5 / 3)), "x[0]": (0.0, 0.1), "x[1]": (0.0, 1.0),
             "x[2]": (0.0, 10.0)}
    for name, (mean, sd) in truth.items():
        row = s.loc[name]
        assert abs(row["mean"] - mean) < 4 * row["mcse_mean"], (name, row["mean"], row["mcse_mean"])
        assert abs(row["sd"] - sd) < 4 * row["mcse_sd"], (name, row["sd"], row["mcse_sd"])


def test_checker_catches_a_biased_meads_run(references):
    folder, build = REFERENCES[1]
    model = build(json.load(open(references / folder / "data.json")))
    res = _quiet(model, seed=1, **KW)
    biased = dict(res.posterior)
    biased["alpha"] = biased["alpha"] + 0.3 * biased["alpha"].std()
    assert not _checker(references)(biased, str(references / folder), verbose=False)[0]


def test_tuning_learns_scales_over_three_orders_of_magnitude():
    # independent normals with scales from 0.03 to 30: the folds' preconditioner must learn them (after
    # it the target is a standard normal), so that the step size settles near where one leapfrog step
    # works on a standard normal, and the damping follows
    sd = np.logspace(-1.5, 1.5, 12)
    with bb.Model() as m:
        bb.Normal("x", 0, sd)
    res = _quiet(m, sampler="meads", chains=64, tune=1000, draws=1000, seed=2)
    x = res.posterior["x"].reshape(-1, sd.size)
    np.testing.assert_allclose(x.std(0) / sd, 1.0, atol=0.05)
    np.testing.assert_allclose(x.mean(0) / sd, 0.0, atol=0.05)
    np.testing.assert_allclose(np.sqrt(res.sampler_states[0]["inv_metric"]) / sd, 1.0, atol=0.3)
    eps = res.sample_stats["step_size"][0, 0]
    assert 0.2 < eps < 1.0, eps
    own = res.sampler_states[0]["meads"]
    fold, u, alpha, delta = own["fold"], own["slice"], own["alpha"], own["delta"]
    assert 0.05 < alpha < 1 and delta == alpha / 2 and -1 <= u <= 1 and fold in (0, 1, 2, 3)
    s = res.summary()
    assert s["ess_bulk"].min() > 3000 and s["r_hat"].max() <= 1.01
    assert max(v.max() for v in res.nested_rhat().values()) < 1.01


def test_result_saves_and_loads(tmp_path):
    with bb.Model() as m:
        bb.Normal("x", 0, 1, shape=2)
    res = bb.sample(m, sampler="meads", chains=8, tune=50, draws=20, seed=1, progressbar=False)
    res.save(tmp_path / "meads.nc")
    back = bb.Result.load(tmp_path / "meads.nc")
    np.testing.assert_array_equal(back.posterior["x"], res.posterior["x"])
    assert back.config["sampler"] == "meads" and len(back.sampler_states) == 8
    assert all(len(st["meads"]["momentum"]) == 2 for st in back.sampler_states)


def test_resume_refuses_states_of_another_sampler_or_a_cluster():
    m = _w1()
    chees = _quiet(m, draws=20, tune=20, chains=8, sampler="chees", seed=1, progressbar=False)
    meads = _quiet(m, draws=20, tune=20, chains=8, sampler="meads", seed=1, progressbar=False)
    from brr_bayes import _backend
    core = _backend.core()
    cfg = {k: v for k, v in meads.config.items() if k not in ("inits", "fingerprint", "device")}
    with pytest.raises(ValueError, match="only resume states saved by a MEADS run"):
        core.start_sampling(m.compiled.program, dict(cfg, totals=[50] * 8), [], list(chees.sampler_states))
    with pytest.raises(ValueError, match="resumes every chain or none"):
        core.start_sampling(m.compiled.program, dict(cfg, totals=[50] * 8), [], list(meads.sampler_states[:4]))
    with pytest.raises(ValueError, match="cannot be sent to a cluster"):
        bb.sample(m, resume=meads, draws=10, client=object(), progressbar=False)


def test_bad_arguments():
    with bb.Model() as m:
        bb.Normal("x", 0, 1)
    for chains in (None, 6, 12 + 2):
        with pytest.raises(ValueError, match="sampler='meads' splits its chains into 4 folds"):
            bb.sample(m, sampler="meads", chains=chains, progressbar=False)
    with pytest.raises(ValueError, match="sampler='meads' adapts a diagonal metric"):
        bb.sample(m, sampler="meads", chains=8, metric="dense", progressbar=False)
    with pytest.raises(ValueError, match="sampler='meads' runs its chains in lock-step"):
        bb.sample(m, sampler="meads", chains=8, client=object(), progressbar=False)
    from brr_bayes import _backend
    # what the C++ sampler is started with passes the same check (the registry's, the one place): same words
    with pytest.raises(ValueError, match=r"splits its chains into 4 folds that tune each other: pass chains a multiple "
                                         r"of 4, at least 8 \(tens to hundreds\), got 6"):
        _backend.core().start_sampling(m.compiled.program, dict(
            _quiet(m, sampler="meads", chains=8, tune=5, draws=5, seed=0).config, chains=6, totals=[10] * 6,
            inits=None), [], [])


def test_device_emulated_passes_the_reference(references):
    # every step's gradients from the device executor's kernels, run on the host
    folder = "eight_schools-eight_schools_noncentered"
    path = references / folder
    model = pm.eight_schools_noncentered(json.load(open(path / "data.json")))
    res = _quiet(model, seed=20261202, device="cuda-emulated", **KW)
    assert res.config["device"] == "cuda-emulated"
    ok, rows = _checker(references)(res.posterior, str(path), verbose=True)
    assert ok, [r for r in rows if r.get("status") != "ok"]
