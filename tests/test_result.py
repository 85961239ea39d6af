"""Results plug into ArviZ: groups and names, summary, warnings, save/load round trip."""
import sys
import warnings

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes.infer.diagnostics import SamplingWarning, diagnose, ebfmi


@pytest.fixture(scope="module")
def result():
    y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
    s = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    with bb.Model(coords={"school": list("ABCDEFGH")}) as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", 5)
        z = bb.Normal("z", 0, 1, dims="school")
        bb.Deterministic("theta", mu + tau * z, dims="school")
        bb.Normal("y", mu + tau * z, s, observed=y, dims="school")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bb.sample(m, draws=500, tune=500, chains=4, seed=3, progressbar=False, target_accept=0.95)


def test_posterior_shapes_and_deterministics(result):
    assert result.posterior["mu"].shape == (4, 500)
    assert result.posterior["theta"].shape == (4, 500, 8)
    np.testing.assert_allclose(result.posterior["theta"],
                               result.posterior["mu"][..., None] + result.posterior["tau"][..., None]
                               * result.posterior["z"], rtol=1e-12)
    assert (result.posterior["tau"] > 0).all()


def test_inference_data_groups_and_names(result):
    idata = result.to_inference_data()
    assert {"posterior", "sample_stats", "observed_data"} <= set(idata.groups())
    for name in ("diverging", "tree_depth", "energy", "lp", "step_size", "n_steps", "acceptance_rate"):
        assert name in idata.sample_stats
    assert list(idata.posterior["theta"].dims) == ["chain", "draw", "school"]
    assert list(idata.posterior["school"].values) == list("ABCDEFGH")
    np.testing.assert_array_equal(idata.observed_data["y"].values, [28.0, 8, -3, 7, -1, 1, 18, 12])


def test_summary_equals_arviz_and_filters(result):
    import arviz as az
    s = result.summary(var_names=["mu", "theta"])
    ref = az.summary(result.to_inference_data(), var_names=["mu", "theta"])
    assert list(s.columns) == ["mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail",
                               "r_hat"]
    np.testing.assert_allclose(s.to_numpy(), ref.to_numpy(), rtol=1e-8)
    assert list(s.index) == ["mu"] + [f"theta[{c}]" for c in "ABCDEFGH"]
    assert abs(s.loc["mu", "mean"] - 4.4) < 0.5 and s.loc["mu", "r_hat"] < 1.01
    with pytest.raises(ValueError, match="unknown variables"):
        result.summary(var_names=["nope"])


def test_netcdf_round_trip(result, tmp_path):
    import arviz as az
    idata = result.to_inference_data()
    path = tmp_path / "fit.nc"
    idata.to_netcdf(path)
    back = az.from_netcdf(path)
    np.testing.assert_array_equal(back.posterior["theta"].values, idata.posterior["theta"].values)
    np.testing.assert_array_equal(back.sample_stats["diverging"].values, idata.sample_stats["diverging"].values)


def test_ebfmi_and_warnings():
    rng = np.random.default_rng(0)
    white = rng.normal(size=(2, 2000))
    walk = np.cumsum(rng.normal(size=(2, 2000)), axis=1)
    assert np.all(np.abs(ebfmi(white) - 2.0) < 0.2)  # iid energies: E-BFMI ~ 2
    assert np.all(ebfmi(walk) < 0.05)

    with bb.Model() as m:                           # the funnel: divergences are reported
        v = bb.Normal("v", 0, 3)
        bb.Normal("x", 0, bb.math.exp(v / 2), shape=9)
    with pytest.warns(SamplingWarning, match="divergence"):
        res = bb.sample(m, draws=300, tune=300, chains=2, seed=0, progressbar=False, target_accept=0.6)
    kinds = {k for k, _ in diagnose(res)}
    assert "divergences" in kinds


def test_prior_and_posterior_predictive(result):
    m = result.model
    pp = bb.sample_prior_predictive(m, draws=4000, seed=1)
    assert pp["prior"]["theta"].shape == (1, 4000, 8) and pp["prior_predictive"]["y"].shape == (1, 4000, 8)
    assert abs(pp["prior"]["mu"].std() - 5) < 0.25                  # mu ~ N(0, 5)
    assert abs(np.median(pp["prior"]["tau"]) - 5) < 0.5              # HalfCauchy(5): median 5
    np.testing.assert_array_equal(pp["prior"]["mu"], bb.sample_prior_predictive(m, draws=4000, seed=1)["prior"]["mu"])
    ppc = bb.sample_posterior_predictive(result, seed=2)
    assert ppc["y"].shape == (4, 500, 8)
    sd = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    resid = ppc["y"] - result.posterior["theta"]                    # y_rep - theta ~ N(0, sigma)
    np.testing.assert_allclose(resid.std(axis=(0, 1)), sd, rtol=0.08)
    idata = result.to_inference_data(prior=pp)
    assert {"posterior_predictive", "prior", "prior_predictive"} <= set(idata.groups())
    assert list(idata.posterior_predictive["y"].dims) == ["chain", "draw", "school"]


def test_save_load_round_trip_and_resume_from_disk(result, tmp_path):
    path = result.save(tmp_path / "fit.nc")
    back = bb.Result.load(path)
    for k in result.posterior:
        np.testing.assert_array_equal(back.posterior[k], result.posterior[k])
    for k in result.sample_stats:
        np.testing.assert_array_equal(back.sample_stats[k], result.sample_stats[k])
    np.testing.assert_array_equal(back.unconstrained, result.unconstrained)
    assert back.sampler_states == result.sampler_states and back.seed == result.seed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        more = bb.sample(result.model, draws=100, progressbar=False, resume=back)   # 100 more per chain
        full = bb.sample(result.model, draws=600, tune=500, chains=4, seed=3, progressbar=False, target_accept=0.95)
    np.testing.assert_array_equal(more.unconstrained, full.unconstrained[:, 500:])


def test_plots_are_one_call(result):
    import matplotlib
    matplotlib.use("Agg")
    assert result.plot_trace(var_names=["mu", "tau"]).shape == (2, 2)
    assert len(result.plot_forest(var_names=["theta"])) >= 1
    pair = result.plot_pair(var_names=["mu", "tau"])
    points = pair.collections[0].get_offsets()
    chains, draws = result.posterior["mu"].shape
    assert points.shape == (chains * draws, 2)                  # every draw, (mu, tau)
    np.testing.assert_allclose(np.sort(points[:, 0]), np.sort(result.posterior["mu"].ravel()))
    rank = result.plot_rank(var_names=["mu"])
    assert rank.get_title() == "mu" and len(rank.patches) > 0  # one histogram of ranks per chain


def test_pointwise_log_likelihood_sums_to_the_model_likelihood(result):
    from scipy import stats
    ll = bb.compute_log_likelihood(result)
    assert ll["y"].shape == (4, 500, 8)
    c, d = 1, 17
    theta = result.posterior["theta"][c, d]
    sd = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
    np.testing.assert_allclose(ll["y"][c, d], stats.norm.logpdf(y, theta, sd), rtol=1e-12)
    import arviz as az
    idata = result.to_inference_data()
    assert "log_likelihood" in idata.groups()
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo)


def test_pointwise_log_likelihood_for_count_families():
    from scipy import stats
    rng = np.random.default_rng(0)
    y = rng.poisson(3, 20)
    with bb.Model() as m:
        lm = bb.Normal("lm", 1, 1)
        bb.Poisson("y", log_mu=lm, observed=y)
        bb.NegativeBinomial("z", log_mu=lm, phi=4.0, observed=y)
        bb.Binomial("k", np.full(20, 10), logit_p=lm - 1.0, observed=np.minimum(y, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bb.sample(m, draws=50, tune=50, chains=1, seed=0, progressbar=False)
    ll = bb.compute_log_likelihood(r)
    lmv = r.posterior["lm"][0, 5]
    np.testing.assert_allclose(ll["y"][0, 5], stats.poisson.logpmf(y, np.exp(lmv)), rtol=1e-10)
    mu = np.exp(lmv)
    np.testing.assert_allclose(ll["z"][0, 5], stats.nbinom.logpmf(y, 4.0, 4.0 / (mu + 4.0)), rtol=1e-10)
    np.testing.assert_allclose(ll["k"][0, 5], stats.binom.logpmf(np.minimum(y, 10), 10, 1 / (1 + np.exp(1 - lmv))),
                               rtol=1e-10)


def test_predictive_needs_the_model(result, tmp_path):
    loaded = bb.Result.load(result.save(tmp_path / "r.nc"))
    with pytest.raises(ValueError, match="posterior predictive draws needs the model"):
        bb.sample_posterior_predictive(loaded)
    with pytest.raises(ValueError, match="the log-likelihood needs the model"):
        bb.compute_log_likelihood(loaded)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_building_the_result_does_not_hold_the_draws_many_times_over(tmp_path):
    # A many-chain run's draws are its largest arrays: the C++ run hands them over without a copy and the
    # Result keeps the unconstrained draws plus the constrained outputs (here z and 2 z: 3 copies at
    # rest). Measured in a fresh process as the growth of peak RSS over one copy, the post-sampling
    # diagnostics left out (their blocks of parameters take a fixed few hundred MB): about 2.9, and 7.0
    # before the hand-over and the copy-free constraining.
    import subprocess
    script = tmp_path / "peak.py"
    script.write_text(
        "import re, warnings, brr_bayes as bb\n"
        "def peak():  # VmHWM: this image's own high-water mark (ru_maxrss keeps the forking parent's)\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) * 1024\n"
        "import brr_bayes.infer.diagnostics as D\n"
        "D.warn_after_sampling = lambda res: None\n"
        "with bb.Model() as m:\n"
        "    z = bb.Normal('z', 0, 1, shape=4000)\n"
        "    bb.Deterministic('z2', z * 2.0)\n"
        "m.compiled\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    bb.sample(m, sampler='chees', chains=4, draws=2, tune=2, seed=1, progressbar=False, init=None)  # imports\n"
        "    base = peak()\n"
        "    r = bb.sample(m, sampler='chees', chains=16, draws=500, tune=10, seed=1, progressbar=False, init=None)\n"
        "grown = peak() - base\n"
        "print(grown / (16 * 500 * 4000 * 8))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    copies = float(out.stdout.strip().splitlines()[-1])
    assert 2.5 < copies < 3.6, copies


def test_a_runs_draws_are_taken_once_and_only_when_it_has_finished():
    from brr_bayes import _backend
    from brr_bayes.infer import plan
    with bb.Model() as m:
        bb.Normal("z", 0, 1, shape=3)
    config, inits = plan.fresh_plan(m, draws=2_000_000, tune=100, chains=2, seed=1)
    run = _backend.core().start_sampling(m.compiled.program, plan.core_config(config), inits, [], None)
    with pytest.raises(ValueError, match=r"trace\(take=True\): the run is still sampling; join\(\) it first"):
        run.trace(0, take=True)
    import time
    t0 = time.perf_counter()
    while len(run.trace(0)["draws"]) == 0 and time.perf_counter() - t0 < 30:   # past the warm-up
        time.sleep(0.01)
    run.stop()
    run.join()
    copied = run.trace(0)["draws"]
    taken = run.trace(0, take=True)["draws"]
    np.testing.assert_array_equal(taken, copied)
    assert taken.shape == (len(copied), 3)
    with pytest.raises(ValueError, match="chain 0's draws were taken"):
        run.trace(0)
    with pytest.raises(IndexError, match="chain 2 is not in this run of 2 chains"):
        run.trace(2)


def test_convergence_warnings_look_at_the_parameters_not_the_deterministics():
    # as PyMC checks its free variables: a deterministic is a function of the parameters, and a model's
    # large ones (cells, levels of random walks) were most of the post-sampling check's time
    with bb.Model() as m:
        z = bb.Normal("z", 0, 1, shape=2)
        bb.Deterministic("w", z * 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=500, tune=300, chains=4, seed=2, progressbar=False)
    assert "rhat" not in dict(diagnose(res))
    res.posterior["w"][0] += 10.0        # a deterministic's chain far off: not looked at
    assert "rhat" not in dict(diagnose(res))
    res.posterior["z"][0] += 10.0        # a parameter's: reported
    assert "rhat" in dict(diagnose(res))
