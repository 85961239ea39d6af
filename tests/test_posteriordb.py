"""Sampler output against the posteriordb reference posteriors (tests/data/posteriordb, check_reference.py).

Fast posteriors run in CI; slow ones are marked `slow` (run them with `pytest -m slow`).
"""
import importlib.util
import json
import warnings

import numpy as np
import pytest

import brr_bayes as bb
import posteriordb_models as pm

FAST = [
    ("eight_schools-eight_schools_noncentered", pm.eight_schools_noncentered, dict(target_accept=0.95)),
    ("arK-arK", pm.ark, {}),
    ("low_dim_gauss_mix-low_dim_gauss_mix", pm.low_dim_gauss_mix, {}),
    ("kilpisjarvi_mod-kilpisjarvi", pm.kilpisjarvi, dict(metric="dense")),
    ("earnings-logearn_interaction_z", pm.logearn_interaction_z, {}),
    ("kidiq_with_mom_work-kidscore_mom_work", pm.kidscore_mom_work, {}),
    ("kidiq-kidscore_interaction", pm.kidscore_interaction, {}),
    ("mesquite-logmesquite", pm.logmesquite, {}),
    ("mesquite-mesquite", pm.mesquite, dict(target_accept=0.95)),
    ("nes2000-nes", pm.nes, {}),
    ("sblrc-blr", pm.blr, {}),
    ("supplementary/GLM_Poisson_Data-GLM_Poisson_model", pm.glm_poisson, {}),
    ("supplementary/wells_data-wells_dist", pm.wells_dist, {}),
]
SLOW = [
    ("earnings-earn_height", pm.earn_height, dict(metric="dense")),
    ("earnings-logearn_interaction", pm.logearn_interaction, dict(metric="dense")),
    ("diamonds-diamonds", pm.diamonds, dict(metric="dense")),
    ("supplementary/seeds_data-seeds_stanified_model", pm.seeds_centered, dict(target_accept=0.99)),
    ("supplementary/radon_all-radon_variable_intercept_slope_noncentered", pm.radon_noncentered, {}),
    ("supplementary/sat-hier_2pl", pm.hier_2pl, {}),
    ("eight_schools-eight_schools_centered", pm.eight_schools_centered, dict(target_accept=0.99)),
]


def _checker(references):
    spec = importlib.util.spec_from_file_location("check_reference", references / "check_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.check


def run_reference(references, folder, build, kwargs, seed=20261122):
    path = references / folder
    data = json.load(open(path / "data.json"))
    model = build(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(model, draws=1000, tune=1000, chains=4, seed=seed, progressbar=False, **kwargs)
    ok, rows = _checker(references)(res.posterior, str(path), verbose=True)
    return ok, rows, res


@pytest.mark.parametrize("folder,build,kwargs", FAST, ids=[f[0].split("/")[-1] for f in FAST])
def test_reference_posterior(references, folder, build, kwargs):
    ok, rows, res = run_reference(references, folder, build, kwargs)
    assert ok, [r for r in rows if r.get("status") != "ok"]
    assert res.sample_stats["diverging"].sum() <= 10


@pytest.mark.slow
@pytest.mark.parametrize("folder,build,kwargs", SLOW, ids=[f[0].split("/")[-1] for f in SLOW])
def test_reference_posterior_slow(references, folder, build, kwargs):
    ok, rows, _ = run_reference(references, folder, build, kwargs)
    assert ok, [r for r in rows if r.get("status") != "ok"]


def test_checker_catches_a_biased_sampler(references):
    """The check can fail: shifting the draws by 0.3 posterior sd is flagged."""
    ok, rows, res = run_reference(references, FAST[1][0], FAST[1][1], {})
    assert ok
    biased = dict(res.posterior)
    biased["alpha"] = biased["alpha"] + 0.3 * biased["alpha"].std()
    ok2, _ = _checker(references)(biased, str(references / FAST[1][0]), verbose=False)
    assert not ok2
