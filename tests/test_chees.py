"""sampler='chees' (ChEES-HMC, many chains in lock-step): the posteriordb reference posteriors the NUTS
tests use, simulation-based calibration, draws independent of the thread count, adaptation that
reaches sensible values, nested R-hat, the Result (summary, save/load) as for NUTS, resume and checkpoints that continue the
ensemble draw for draw, and bad arguments refused by name. What every lock-step sampler must do (SBC,
thread invariance, resume, checkpoints) runs here for MEADS too (its own tests: test_meads.py)."""
import json
import warnings

import numpy as np
import pytest
from scipy import stats

import brr_bayes as bb
import posteriordb_models as pm
from helpers import regression, sample_interrupted
from test_posteriordb import _checker

REFERENCES = [
    ("eight_schools-eight_schools_noncentered", pm.eight_schools_noncentered),
    ("arK-arK", pm.ark),
    ("earnings-logearn_interaction_z", pm.logearn_interaction_z),
    ("mesquite-logmesquite", pm.logmesquite),
    ("nes2000-nes", pm.nes),
    ("sblrc-blr", pm.blr),
    ("supplementary/GLM_Poisson_Data-GLM_Poisson_model", pm.glm_poisson),
]
KW = dict(sampler="chees", chains=64, tune=600, draws=150, progressbar=False)


@pytest.mark.parametrize("folder,build", REFERENCES, ids=[f[0].split("/")[-1] for f in REFERENCES])
def test_reference_posterior(references, folder, build):
    path = references / folder
    model = build(json.load(open(path / "data.json")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(model, seed=20261202, **KW)
    ok, rows = _checker(references)(res.posterior, str(path), verbose=True)
    assert ok, [r for r in rows if r.get("status") != "ok"]
    assert res.sample_stats["diverging"].mean() < 0.01


def test_checker_catches_a_biased_chees_run(references):
    folder, build = REFERENCES[1]
    model = build(json.load(open(references / folder / "data.json")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(model, seed=1, **KW)
    biased = dict(res.posterior)
    biased["alpha"] = biased["alpha"] + 0.3 * biased["alpha"].std()
    assert not _checker(references)(biased, str(references / folder), verbose=False)[0]


@pytest.mark.parametrize("sampler,seed0,tune,draws,thin", [("chees", 2025, 200, 40, 2), ("meads", 2026, 300, 400, 20)])
def test_sbc_ranks_are_uniform(sampler, seed0, tune, draws, thin):
    # 8 chains x draws / thin = 160 nearly independent draws per simulation
    J, sims, bins = 4, 100, 10
    ranks = {"mu": [], "tau": []}
    for s in range(sims):
        rng = np.random.default_rng([seed0, s])
        mu, tau = rng.normal(), abs(rng.normal())
        y = rng.normal(mu + tau * rng.normal(size=J), 1.0)
        with bb.Model() as m:
            mu_ = bb.Normal("mu", 0, 1)
            tau_ = bb.HalfNormal("tau", 1)
            z = bb.Normal("z", 0, 1, shape=J)
            bb.Normal("y", mu_ + tau_ * z, 1.0, observed=y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = bb.sample(m, sampler=sampler, chains=8, tune=tune, draws=draws, seed=s, progressbar=False)
        for name, true in (("mu", mu), ("tau", tau)):
            d = res.posterior[name][:, ::thin].ravel()
            ranks[name].append(int(np.sum(d < true)))
    for name, r in ranks.items():
        counts = np.bincount(np.minimum(np.array(r) * bins // 161, bins - 1), minlength=bins)
        assert stats.chisquare(counts).pvalue > 1e-3, (name, counts)


@pytest.mark.parametrize("sampler", ["chees", "meads"])
def test_same_draws_whatever_the_thread_count(sampler):
    with bb.Model() as m:
        bb.Normal("x", 0, np.array([1.0, 10.0, 0.1]))
    kw = dict(sampler=sampler, chains=8, tune=100, draws=50, seed=3, progressbar=False)
    a, b = bb.sample(m, cores=1, **kw), bb.sample(m, cores=2, **kw)
    np.testing.assert_array_equal(a.unconstrained, b.unconstrained)
    for k in a.sample_stats:
        np.testing.assert_array_equal(a.sample_stats[k], b.sample_stats[k])


def test_adaptation_learns_scales_and_a_long_enough_trajectory():
    # independent normals with scales over three orders of magnitude: the metric must learn them, and
    # the step size and trajectory length settle where HMC on a standard normal works
    sd = np.logspace(-1.5, 1.5, 12)
    with bb.Model() as m:
        bb.Normal("x", 0, sd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, sampler="chees", chains=64, tune=500, draws=200, seed=2, progressbar=False)
    x = res.posterior["x"].reshape(-1, sd.size)
    np.testing.assert_allclose(x.std(0) / sd, 1.0, atol=0.08)
    eps = res.sample_stats["step_size"][0, 0]
    steps = res.sample_stats["n_steps"].mean()
    assert 0.3 < eps < 2.0, eps
    assert 1.0 <= steps * eps, (steps, eps)        # mean trajectory length of order a standard deviation
    s = res.summary()
    assert s["ess_bulk"].min() > 2000 and s["r_hat"].max() <= 1.01
    assert max(v.max() for v in res.nested_rhat().values()) < 1.01


def _chees64(model, seed, draws):
    """64 ChEES chains x (300 + draws) from Pathfinder starts, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(model, sampler="chees", chains=64, tune=300, draws=draws, seed=seed, init="pathfinder",
                         progressbar=False)


def test_a_few_wide_directions_get_trajectories_long_enough():
    # radon (W5, non-centred, 777 parameters): the intercepts' mean and the slopes are a few directions
    # far wider under the diagonal metric than the hundreds of county effects that ChEES's criterion
    # tunes for. With ChEES's length alone: min ESS 691, 1.7 per 1,000 gradients (warm-up counted); with
    # the widest direction's length: 8,365 and 5.5 (NUTS: 0.69)
    from workloads import data, models
    from brr_bayes.infer.convergence import ess_bulk
    m = models.radon(data.make_w5())
    res = _chees64(m, seed=1, draws=300)
    ess = min(float(np.min(ess_bulk(np.asarray(res.posterior[k])))) for k in m.param_names)
    per_1k = ess / sum(res.grad_evals) * 1000
    assert ess > 4000 and per_1k > 4.0, (ess, per_1k)
    assert max(v.max() for v in res.nested_rhat().values()) < 1.01


def test_the_warm_up_travels_along_the_widest_direction():
    # BYM2 (W3), seed 2: Pathfinder starts every chain near rho = 1, far along the slowest direction.
    # With ChEES's length through the warm-up the chains were still on their way when the metric froze,
    # and the longer sampling trajectories then met a metric and step size learned in the corner (max
    # R-hat 1.25, step size 0.021); following the widest direction from a quarter of the adaptation on,
    # they arrive (R-hat 1.012, min ESS 4,369, step size 0.068 with 300 draws)
    from workloads import data, models
    res = _chees64(models.bym2(data.make_w3()), seed=2, draws=200)
    s = res.summary()
    # R-hat of 200-draw chains: 1.02-1.03 here, 1.25 without
    assert s["r_hat"].max() < 1.05 and s["ess_bulk"].min() > 1500, (s["r_hat"].max(), s["ess_bulk"].min())
    assert res.sample_stats["step_size"][0, 0] > 0.04


def test_a_large_first_step_size_does_not_lengthen_the_trajectory():
    # eight schools, seed 2: dual averaging's first, exploring iterations took the step size to 7.45,
    # and the trajectory length, kept at least one step, went up with it and stayed at ChEES's second
    # local optimum (T about 12 against 3.6; 12.4 ESS per 1,000 gradients against about 50)
    res = _chees64(_w1(), seed=2, draws=300)
    per_1k = res.summary()["ess_bulk"].min() / sum(res.grad_evals) * 1000
    assert per_1k > 30, per_1k
    assert (res.sample_stats["n_steps"] * res.sample_stats["step_size"]).mean() < 2.5


def test_one_dominant_direction_keeps_chees_length():
    # when the widest direction already dominates ChEES's criterion (an equicorrelated normal), its
    # length is right and must not be stretched: scaling it by the direction's width over the mean (4.3x
    # here) cut the ESS per gradient of the coordinates' mean from about 23 to 9
    from brr_bayes.infer.convergence import ess_bulk
    d, rho = 20, 0.9
    with bb.Model() as m:
        bb.MvNormal("x", np.zeros(d), cov=rho * np.ones((d, d)) + (1 - rho) * np.eye(d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, sampler="chees", chains=64, tune=300, draws=200, seed=1, progressbar=False)
    x = np.asarray(res.posterior["x"])
    per_1k = float(ess_bulk(x.mean(-1)[..., None])[0]) / res.sample_stats["n_steps"].sum() * 1000
    assert per_1k > 15, per_1k
    np.testing.assert_allclose(np.cov(x.reshape(-1, d).T), rho * np.ones((d, d)) + (1 - rho) * np.eye(d), atol=0.1)


def test_nested_rhat_flags_a_superchain_apart():
    from brr_bayes.infer.convergence import nested_rhat
    x = np.random.default_rng(0).normal(size=(64, 10, 2))
    assert np.all(nested_rhat(x, 4) < 1.02)
    x[:16, :, 0] += 2.0     # one superchain in another place, for the first parameter only
    r = nested_rhat(x, 4)
    assert r[0] > 1.2 and r[1] < 1.02
    with pytest.raises(ValueError, match="do not split into 5 equal superchains"):
        nested_rhat(x, 5)


def test_result_saves_and_loads(tmp_path):
    with bb.Model() as m:
        bb.Normal("x", 0, 1, shape=2)
    res = bb.sample(m, sampler="chees", chains=8, tune=50, draws=20, seed=1, progressbar=False)
    res.save(tmp_path / "chees.nc")
    back = bb.Result.load(tmp_path / "chees.nc")
    np.testing.assert_array_equal(back.posterior["x"], res.posterior["x"])
    assert back.config["sampler"] == "chees" and len(back.sampler_states) == 8
    # the shared adaptation by name, and the widest direction (one value per dimension)
    for st in back.sampler_states:
        assert set(st["chees"]) == {"dual_averaging", "adam", "log_T", "log_T_avg", "T", "widest"}
        assert len(st["chees"]["widest"]["v"]) == 2


def _w1():
    from workloads import data, models
    return models.eight_schools(data.make_w1())


def test_states_saved_before_the_widest_direction_still_resume(tmp_path):
    # states from before the widest direction was learned have none; in the sampling phase nothing reads
    # the direction, so they continue as the full states do
    m = _w1()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = bb.sample(m, sampler="chees", chains=8, tune=60, draws=20, seed=3, progressbar=False)
        full = bb.sample(m, resume=first, draws=30, progressbar=False)
        for st in first.sampler_states:
            del st["chees"]["widest"]
        old = bb.sample(m, resume=first, draws=30, progressbar=False)
    np.testing.assert_array_equal(old.unconstrained, full.unconstrained)


LOCKSTEP = ["chees", "meads"]
CHEES = dict(chains=8, tune=100, seed=5, progressbar=False)


@pytest.mark.parametrize("sampler", LOCKSTEP)
def test_resume_adds_draws_as_one_longer_run(tmp_path, sampler):
    m = _w1()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = bb.sample(m, draws=100, sampler=sampler, **CHEES)
        first = bb.sample(m, draws=60, sampler=sampler, **CHEES)
        first.save(tmp_path / "first.nc")
        more = bb.sample(m, resume=tmp_path / "first.nc", draws=40, progressbar=False)   # from the saved file
    assert more.config["sampler"] == sampler
    joined = bb.concat(first, more)
    np.testing.assert_array_equal(joined.unconstrained, full.unconstrained)
    np.testing.assert_array_equal(joined.sample_stats["step_size"], full.sample_stats["step_size"])


@pytest.mark.parametrize("sampler", LOCKSTEP)
def test_checkpointed_run_equals_the_uninterrupted_one(tmp_path, sampler):
    m = _w1()
    kw = dict(CHEES, sampler=sampler, draws=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = bb.sample(m, **kw)
        # segments of 37 iterations: boundaries inside warm-up (between MEADS's deals of chains to
        # folds), at no special iteration, and in sampling
        seg = bb.sample(m, checkpoint=tmp_path / "ck.nc", checkpoint_every=37, **kw)
        # a boundary exactly at the end of warm-up (MEADS: the fixed tuning travels in the saved states)
        at_tune = bb.sample(m, checkpoint=tmp_path / "ck2.nc", checkpoint_every=100, **kw)
    np.testing.assert_array_equal(seg.unconstrained, full.unconstrained)
    np.testing.assert_array_equal(at_tune.unconstrained, full.unconstrained)
    saved = bb.Result.load(tmp_path / "ck.nc")
    np.testing.assert_array_equal(saved.unconstrained, full.unconstrained)


def test_resume_refuses_states_of_another_sampler_or_a_cluster():
    m = _w1()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nuts = bb.sample(m, draws=20, tune=20, chains=2, seed=1, progressbar=False)
        chees = bb.sample(m, draws=20, tune=20, chains=4, sampler="chees", seed=1, progressbar=False)
    from brr_bayes import _backend
    core = _backend.core()
    cfg = {k: v for k, v in chees.config.items() if k not in ("inits", "fingerprint")}
    with pytest.raises(ValueError, match="only resume states saved by a ChEES run"):
        core.start_sampling(m.compiled.program, dict(cfg, totals=[50] * 2, chains=2), [], list(nuts.sampler_states))
    with pytest.raises(ValueError, match="resumes every chain or none"):
        core.start_sampling(m.compiled.program, dict(cfg, totals=[50] * 4), [], list(chees.sampler_states[:2]))
    with pytest.raises(ValueError, match="cannot be sent to a cluster"):
        bb.sample(m, resume=chees, draws=10, client=object(), progressbar=False)


def test_bad_arguments():
    with bb.Model() as m:
        bb.Normal("x", 0, 1)
    with pytest.raises(ValueError, match="pass chains >= 2"):
        bb.sample(m, sampler="chees", chains=1, progressbar=False)
    with pytest.raises(ValueError, match="leave metric= and adapt= out"):
        bb.sample(m, sampler="chees", metric="dense", progressbar=False)
    with pytest.raises(ValueError, match="cannot be sent to a cluster"):
        bb.sample(m, sampler="chees", client=object(), progressbar=False)
    with pytest.raises(ValueError, match="sampler='hmc' is not known"):
        bb.sample(m, sampler="hmc", progressbar=False)


def test_ctrl_c_keeps_the_draws_so_far(monkeypatch):
    model = regression(0, n=20_000)
    kw = dict(sampler="chees", chains=8, tune=100, draws=400, seed=5, progressbar=False, init=None)
    part, _, _ = sample_interrupted(model, monkeypatch, lambda done: min(done) > 150, **kw)
    assert part.partial
    kept = part.chain_draws
    assert len(set(kept)) == 1 and 0 < kept[0] < 400, kept       # lock-step: every chain the same length
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = bb.sample(model, **kw)
    np.testing.assert_array_equal(part.unconstrained[:, :kept[0]], full.unconstrained[:, :kept[0]])
    # resumed without draws=, the interrupted run finishes as the uninterrupted one would have
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rest = bb.sample(model, resume=part, progressbar=False)
    np.testing.assert_array_equal(bb.concat(part, rest).unconstrained, full.unconstrained)


def test_device_emulated_runs_the_device_kernels_and_passes_the_reference(references):
    # device='cuda-emulated': every leapfrog step's gradients from the device executor's kernels, run on
    # the host; the draws are not the CPU run's (the sums associate differently) but the posterior is
    folder = "eight_schools-eight_schools_noncentered"
    path = references / folder
    model = pm.eight_schools_noncentered(json.load(open(path / "data.json")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(model, seed=20261202, device="cuda-emulated", **KW)
    assert res.config["device"] == "cuda-emulated"
    ok, rows = _checker(references)(res.posterior, str(path), verbose=True)
    assert ok, [r for r in rows if r.get("status") != "ok"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        more = bb.sample(model, resume=res, draws=10, progressbar=False)
    assert more.config["device"] == "cuda-emulated"


@pytest.mark.parametrize("model_kind", ["funnel", "wall"])
def test_trajectories_stepped_on_the_device_give_the_host_loops_draws(monkeypatch, model_kind):
    # With a device, a whole trajectory's leapfrog steps run there (only its ends cross); the host loop
    # takes one batch evaluation per step. Same arithmetic, so the same draws, evaluation counts and
    # divergences: on eight schools (energy divergences in its funnel) and on a model whose density is
    # NaN outside a ball (trajectories that end at an unusable point, ok = 0)
    from brr_bayes.infer import runner
    if model_kind == "funnel":
        model = _w1()
    else:
        with bb.Model() as model:
            x = bb.Normal("x", 0, 3, shape=3)
            bb.Potential("wall", bb.math.log(1 - (x * x).sum() / 4))   # NaN where |x| > 2
    real, made = runner.device_evaluator, []

    def evaluator(on):
        def make(*a):
            made.append(real(*a))
            made[-1].trajectories_on_device = on
            return made[-1]
        return make

    runs = {}
    for on in (True, False):
        monkeypatch.setattr(runner, "device_evaluator", evaluator(on))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs[on] = bb.sample(model, sampler="chees", chains=8, tune=150, draws=60, seed=5, init=None,
                                 device="cuda-emulated", progressbar=False)
    assert made[0].trajectories > 150 and made[1].trajectories == 0
    np.testing.assert_array_equal(runs[True].unconstrained, runs[False].unconstrained)
    assert runs[True].grad_evals == runs[False].grad_evals
    for k in ("diverging", "n_steps", "energy", "step_size"):
        np.testing.assert_array_equal(runs[True].sample_stats[k], runs[False].sample_stats[k])
    if model_kind == "wall":   # the unusable points were met (they end trajectories as divergences)
        r = bb.sample(model, sampler="chees", chains=8, tune=150, draws=60, seed=5, init=None, keep_warmup=True,
                      device="cuda-emulated", progressbar=False)
        assert r.sample_stats["diverging"].sum() > 0


def test_device_choices_are_checked():
    m = _w1()
    with pytest.raises(ValueError, match="device='tpu' is not known"):
        bb.sample(m, sampler="chees", device="tpu", progressbar=False)
    with pytest.raises(ValueError, match="a cluster run \\(client=\\) samples on its workers' CPUs"):
        bb.sample(m, device="cuda-emulated", client=object(), progressbar=False)
    with bb.Model() as ode_model:   # an ODE solve's adaptive steps differ lane by lane: no device kernel yet
        k = bb.HalfNormal("k", 1)
        z = bb.ode.solve(lambda t, y: -k * y, np.array([1.0]), np.array([0.5, 1.0]))
        bb.Potential("p", -(z ** 2).sum())
    with pytest.raises(ValueError, match="without a device kernel yet \\(ode_solve\\)"):
        bb.sample(ode_model, sampler="chees", chains=4, device="cuda-emulated", init=None, progressbar=False)
    from brr_bayes import _backend
    if not _backend.cuda_available():
        with pytest.raises(RuntimeError, match="device='cuda': (no CUDA device is visible|the CUDA extension)"):
            bb.sample(m, sampler="chees", device="cuda", progressbar=False)
