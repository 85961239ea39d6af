"""Bad inputs, one row each: the exception type, and a message that names the variable (and the fix).

Every row runs in Python before any C++ sampling starts, or is caught where the data is read back.
"""
import functools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import brr_bayes as bb

Y8 = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
EDGES = np.array([[0, 1], [1, 2]])


def in_model(fn):
    def run(env):
        with bb.Model():
            fn()
    return run


def schools(tau_scale=5.0):
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", tau_scale)
        z = bb.Normal("z", 0, 1, shape=8)
        bb.Normal("y", mu + tau * z, 10.0, observed=Y8)
    return m


def nan_matrix(sparse):
    X = np.random.default_rng(0).normal(size=(40, 3))
    X[5, 2] = np.nan
    X = sp.csr_matrix(X) if sparse else X
    with bb.Model():
        b = bb.Normal("b", 0, 1, shape=3)
        bb.Normal("y", X @ b, 1.0, observed=np.zeros(40))


def nan_predictor():
    x = np.arange(10.0)
    x[3] = np.nan
    with bb.Model():
        b = bb.Normal("b", 0, 1)
        bb.Normal("y", x * b, 1.0, observed=np.zeros(10))


class Env:
    """Fits shared by the rows, made on first use."""

    @functools.cached_property
    def result(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bb.sample(schools(), draws=50, tune=50, chains=2, seed=1, progressbar=False)

    @functools.cached_property
    def warmup_only(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bb.sample(schools(), draws=0, tune=20, chains=1, seed=1, progressbar=False)

    @functools.cached_property
    def survey(self):
        rng = np.random.default_rng(2)
        df = pd.DataFrame({"state": rng.choice(["CA", "NY", "TX"], 200), "age": rng.normal(size=200),
                           "score": rng.normal(size=200), "n": rng.integers(1, 5, 200)})
        df["vote"] = (rng.random(200) < 0.4).astype(int)
        df["rating"] = rng.integers(1, 5, 200)      # a 1..4 survey scale, coded as brms counts
        return df

    @functools.cached_property
    def fit(self):
        return bb.glm("vote ~ age + (1 | state)", self.survey, family="bernoulli", draws=50, tune=50, chains=1,
                      seed=1, progressbar=False)

    @functools.cached_property
    def saved_bytes(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            return open(self.result.save(f"{d}/run.nc"), "rb").read()

    @functools.cached_property
    def checkpoint(self):
        """A checkpoint file of a finished run (kept for the module's life)."""
        import tempfile
        self._folder = tempfile.TemporaryDirectory()
        path = f"{self._folder.name}/run.ckpt"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bb.sample(schools(), draws=10, tune=10, chains=1, seed=1, progressbar=False, checkpoint=path,
                      checkpoint_every=10)
        return path

    def saved(self, tmp_path, cut):
        path = tmp_path / "run.nc"
        self.result.save(path)
        path.write_bytes(path.read_bytes()[:cut])
        return path


def inf_predictor():
    x = np.array([1.0, np.inf, 2.0])
    with bb.Model():
        b = bb.Normal("b", 0, 1)
        bb.Normal("y", x * b, 1.0, observed=np.zeros(3))


def not_pd_cholesky():
    with bb.Model() as m:
        s = bb.HalfNormal("s", 1)
        # a data matrix that is not positive definite, made an expression by the parameter's zero weight
        bb.MvNormal("v", np.zeros(2), chol=bb.math.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]) + 0.0 * s))
    bb.sample(m, draws=5, tune=5, chains=1, progressbar=False)


def reversed_parameter_bounds():
    from brr_bayes.model.transforms import Interval
    with bb.Model() as m:
        floor = bb.Normal("floor", 0, 1)
        bb.Normal("x", 0, 3, transform=Interval(lower=floor + 2, upper=floor))
    bb.sample(m, draws=5, tune=5, chains=1, progressbar=False)


def log_of_a_negative():
    with bb.Model() as m:
        x = bb.Normal("x", 0, 1)
        bb.Potential("broken", bb.math.log(-bb.math.exp(x)))
    bb.sample(m, draws=5, tune=5, chains=1, progressbar=False)


def fails_on_second(d):
    if d == 2:
        raise ValueError("no data for 2")
    with bb.Model() as m:
        bb.Normal("mu", 0, 1)
    return m


def census(**cols):
    base = {"state": ["CA", "NY", "TX"], "age": [0.0, 1.0, 2.0], "n": [10, 20, 30]}
    base.update(cols)
    return pd.DataFrame(base)


def sample_kw(**kw):
    return lambda env: bb.sample(schools(), progressbar=False, **kw)


def resume_kw(**kw):
    return lambda env: bb.sample(kw.pop("model", schools)(), resume=env.result, progressbar=False, **kw)


CASES = [
    # --- prior parameters
    ("normal_sigma_negative", in_model(lambda: bb.Normal("mu", 0, -1)), ValueError, r"Normal 'mu': sigma must be > 0"),
    ("halfcauchy_beta_zero", in_model(lambda: bb.HalfCauchy("tau", 0)), ValueError, r"HalfCauchy 'tau': beta must be > 0"),
    ("gamma_alpha_array", in_model(lambda: bb.Gamma("g", np.array([1.0, -2.0]), 1)), ValueError,
     r"Gamma 'g': alpha must be > 0, got -2"),
    ("normal_mu_nan", in_model(lambda: bb.Normal("mu", np.nan, 1)), ValueError, r"Normal 'mu': parameter mu must be finite"),
    ("beta_missing_parameter", in_model(lambda: bb.Beta("b", 1)), TypeError, r"Beta 'b': missing parameter"),
    ("normal_unknown_parameter", in_model(lambda: bb.Normal("mu", 0, 1, sd=2)), TypeError,
     r"Normal 'mu': unknown parameter 'sd'"),
    ("uniform_bounds_reversed", in_model(lambda: bb.Uniform("u", 2, 1)), ValueError, r"Uniform 'u': lower must be < upper"),
    ("bernoulli_p_above_one", in_model(lambda: bb.Bernoulli("y", p=1.5, observed=[0, 1])), ValueError,
     r"Bernoulli 'y': p must lie in \(0, 1\), got 1.5"),
    ("studentt_nu_negative", in_model(lambda: bb.StudentT("t", -1.0, 0, 1)), ValueError, r"StudentT 't': nu must be > 0"),
    ("dirichlet_negative", in_model(lambda: bb.Dirichlet("w", np.array([1.0, -1.0]))), ValueError, r"Dirichlet 'w'"),
    ("outside_model_context", lambda env: bb.Normal("mu", 0, 1), TypeError, r"Normal\('mu'\) must be created inside"),
    ("discrete_parameter", in_model(lambda: bb.Poisson("k", 3.0)), TypeError, r"Poisson 'k': discrete variables cannot"),
    # --- observed data
    ("observed_nan", in_model(lambda: bb.Normal("y", 0, 1, observed=[1.0, np.nan])), ValueError,
     r"Normal 'y': observed data must be finite, got nan"),
    ("poisson_negative_count", in_model(lambda: bb.Poisson("y", 2.0, observed=[1, -3])), ValueError,
     r"Poisson 'y': observed counts must be >= 0, got -3"),
    ("poisson_fractional_count", in_model(lambda: bb.Poisson("y", 2.0, observed=[1.5])), ValueError,
     r"Poisson 'y': observed counts must be whole numbers"),
    ("binomial_more_than_trials", in_model(lambda: bb.Binomial("y", [3, 4], 0.5, observed=[2, 5])), ValueError,
     r"Binomial 'y'.*successes must not exceed trials n"),
    ("bernoulli_outcome_two", in_model(lambda: bb.Bernoulli("y", 0.5, observed=[0, 2])), ValueError,
     r"Bernoulli 'y'.*outcomes must be 0 or 1, got 2"),
    ("exponential_negative_value", in_model(lambda: bb.Exponential("y", 1.0, observed=[-1.0])), ValueError,
     r"Exponential 'y': values must be > 0"),
    ("observed_strings", in_model(lambda: bb.Normal("y", 0, 1, observed=np.array(["a"]))), TypeError,
     r"Normal 'y': observed data must be numeric"),
    ("observed_empty", in_model(lambda: bb.Normal("y", 0, 1, observed=np.array([]))), ValueError,
     r"Normal 'y': observed data is empty"),
    ("observed_expression", in_model(lambda: bb.Normal("y", 0, 1, observed=bb.Normal("m", 0, 1) * 2.0)), TypeError,
     r"Normal 'y': observed must be data"),
    ("observed_shape_vs_shape", in_model(lambda: bb.Normal("y", 0, 1, shape=3, observed=np.zeros(4))), ValueError,
     r"Normal 'y': observed data has shape \(4,\) but dims/shape say \(3,\)"),
    ("observed_longer_than_mean", in_model(lambda: bb.Normal("y", bb.Normal("mu", 0, 1, shape=5), 1,
                                                             observed=np.zeros(7))), ValueError,
     r"Normal 'y': observed data has shape \(7,\) but the parameters \(mu \(5,\)\) have shape \(5,\)"),
    ("observed_column_against_vector", in_model(lambda: bb.Normal("y", bb.Normal("mu", 0, 1, shape=4), 1,
                                                                  observed=np.zeros((4, 1)))), ValueError,
     r"Normal 'y': observed data has shape \(4, 1\) .*y.ravel\(\) for an \(n, 1\) column"),
    ("categorical_logits_rows", in_model(lambda: bb.Categorical("y", logits=bb.Normal("l", 0, 1, shape=(5, 3)),
                                                                observed=np.zeros(4, dtype=int))), ValueError,
     r"Categorical 'y': observed data has shape \(4,\) but the parameters \(logits \(5, 3\)\) have shape \(5,\)"),
    ("shape_negative", in_model(lambda: bb.Normal("x", 0, 1, shape=-3)), ValueError,
     r"Normal 'x': shape must hold whole sizes >= 1, got shape=-3"),
    # --- data feeding a likelihood
    ("nan_in_dense_matrix", lambda env: nan_matrix(False), ValueError,
     r"Normal 'y': parameter mu is computed from data holding NaN .*index \(5, 2\)"),
    ("nan_in_sparse_matrix", lambda env: nan_matrix(True), ValueError,
     r"Normal 'y': parameter mu is computed from data holding NaN .*sparse"),
    ("nan_in_predictor", lambda env: nan_predictor(), ValueError,
     r"Normal 'y': parameter mu is computed from data holding NaN .*index \(3,\)"),
    ("inf_in_predictor", lambda env: inf_predictor(), ValueError,
     r"Normal 'y': parameter mu is computed from data holding inf \(1 of 3 values .*index \(1,\)"),
    ("cholesky_of_a_matrix_not_pd", lambda env: not_pd_cholesky(), RuntimeError,
     r"could not find a starting point.* The likely cause: MvNormal 'v': its parameter chol is not finite .*because "
     r"the matrix passed to bb.math.cholesky is not positive definite"),
    ("potential_log_of_a_negative", lambda env: log_of_a_negative(), RuntimeError,
     r"The likely cause: the Potential 'broken' is not finite .*first made non-finite by the operation log "
     r"\(its inputs are finite there\)"),
    ("parameter_bounds_reversed", lambda env: reversed_parameter_bounds(), RuntimeError,
     r"The likely cause: Normal 'x': its upper bound is not above its lower bound .*upper - lower = -2"),
    ("sparse_shape_mismatch", in_model(lambda: sp.csr_matrix(np.eye(3)) @ bb.Normal("b", 0, 1, shape=4)), ValueError,
     r"sparse matrix of shape \(3, 3\) cannot multiply an expression of shape \(4,\)"),
    ("dense_shape_mismatch", in_model(lambda: np.ones((5, 3)) @ bb.Normal("b", 0, 1, shape=4)), ValueError,
     r"cannot multiply data of shape \(5, 3\) by an expression of shape \(4,\)"),
    # --- structured priors
    ("rw1_sigma_negative", in_model(lambda: bb.RW1("x", -0.5, shape=10)), ValueError, r"RW1 'x': sigma must be > 0"),
    ("rw2_sigma_zero", in_model(lambda: bb.RW2("x", 0.0, shape=10)), ValueError, r"RW2 'x': sigma must be > 0"),
    ("ar1_rho_outside", in_model(lambda: bb.AR1("x", 1.5, 1.0, shape=10)), ValueError,
     r"AR1 'x': rho must lie in \(-1, 1\).*got 1.5"),
    ("ar1_sigma_negative", in_model(lambda: bb.AR1("x", 0.5, -1.0, shape=10)), ValueError, r"AR1 'x': sigma must be > 0"),
    ("bym2_rho_outside", in_model(lambda: bb.BYM2("b", 3, edges=EDGES, rho=1.5)), ValueError,
     r"BYM2 'b': rho .*must lie in \[0, 1\], got 1.5"),
    ("bym2_sigma_negative", in_model(lambda: bb.BYM2("b", 3, edges=EDGES, sigma=-1.0)), ValueError,
     r"BYM2 'b': sigma must be > 0"),
    ("icar_edge_out_of_range", in_model(lambda: bb.ICAR("phi", 3, edges=np.array([[0, 5]]))), ValueError, r"ICAR 'phi'"),
    ("icar_no_graph", in_model(lambda: bb.ICAR("phi", 3)), TypeError, r"ICAR 'phi': pass exactly one of edges"),
    ("icar_no_edges", in_model(lambda: bb.ICAR("phi", 3, edges=np.zeros((0, 2), dtype=int))), ValueError,
     r"ICAR 'phi': the graph has no edges, so each of its 3 nodes would be an island"),
    ("icar_weighted_adjacency", in_model(lambda: bb.ICAR("phi", adjacency=np.array([[0, 2, 0], [2, 0, 1], [0, 1, 0]]))),
     ValueError, r"ICAR 'phi': adjacency\[0, 1\] = 2, but the ICAR takes an unweighted graph"),
    ("icar_adjacency_self_loop", in_model(lambda: bb.ICAR("phi", adjacency=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]]))),
     ValueError, r"ICAR 'phi': adjacency has a non-zero diagonal \(adjacency\[1, 1\] = 1\)"),
    ("r2d2_sigma_negative", in_model(lambda: bb.R2D2("r", 5, sigma=-1)), ValueError, r"R2D2 'r': sigma must be > 0"),
    ("r2d2_shape_zero", in_model(lambda: bb.R2D2("r", 0)), ValueError, r"R2D2 'r': shape must hold whole sizes >= 1"),
    ("horseshoe_shape_zero", in_model(lambda: bb.RegularizedHorseshoe("h", 0)), ValueError,
     r"RegularizedHorseshoe 'h': shape must hold whole sizes >= 1"),
    ("rw1_shape_zero", in_model(lambda: bb.RW1("w", 0.1, shape=0)), ValueError,
     r"RW1\('w'\): shape must hold whole sizes >= 1, got shape=0"),
    ("random_effect_sigma_negative", in_model(lambda: bb.RandomEffect("a", np.array([0, 1]), -1.0)), ValueError,
     r"RandomEffect 'a': sigma must be > 0"),
    ("random_effect_float_index", in_model(lambda: bb.RandomEffect("a", np.array([0.5, 1.0]), 1.0)), TypeError,
     r"RandomEffect 'a': index 0 must hold integer group ids"),
    ("random_effect_negative_index", in_model(lambda: bb.RandomEffect("a", np.array([0, -1]), 1.0)), ValueError,
     r"RandomEffect 'a': group ids must be >= 0"),
    ("mvnormal_cov_not_symmetric", in_model(lambda: bb.MvNormal("x", np.zeros(2), cov=[[1, .5], [.1, 1]])), ValueError,
     r"MvNormal 'x': cov is not symmetric"),
    ("mvnormal_cov_not_pd", in_model(lambda: bb.MvNormal("x", np.zeros(2), cov=[[1, 2], [2, 1]])), ValueError,
     r"MvNormal 'x': cov is not positive definite"),
    ("zerosum_scalar", in_model(lambda: bb.ZeroSumNormal("z", 1.0)), ValueError,
     r"ZeroSumNormal 'z': a zero-sum vector needs shape"),
    ("zerosum_one_value", in_model(lambda: bb.ZeroSumNormal("z", 1.0, shape=1)), ValueError,
     r"ZeroSumNormal 'z': a zero-sum vector needs"),
    # --- shapes, names, indices
    ("dims_without_coords", in_model(lambda: bb.Normal("z", 0, 1, dims="county")), ValueError,
     r"dims \['county'\] have no coords"),
    ("duplicate_name", in_model(lambda: (bb.Normal("x", 0, 1), bb.Normal("x", 0, 1))), ValueError,
     r"a variable named 'x' already exists"),
    ("duplicate_coord_labels", lambda env: bb.Model(coords={"g": ["a", "a"]}), ValueError, r"duplicate labels"),
    ("broadcast_mismatch", in_model(lambda: bb.Normal("x", 0, 1, shape=3) + np.ones(4)), ValueError,
     r"shapes \(3,\) and \(4,\) do not broadcast"),
    ("index_out_of_range", in_model(lambda: bb.Normal("a", 0, 1, shape=4)[np.array([0, 4])]), ValueError,
     r"index value 4 is out of range for axis 0 of size 4"),
    ("index_negative", in_model(lambda: bb.Normal("a", 0, 1, shape=4)[np.array([0, -1])]), ValueError,
     r"index value -1 is out of range"),
    ("index_floats", in_model(lambda: bb.Normal("a", 0, 1, shape=4)[np.array([0.0, 1.0])]), TypeError,
     r"index arrays must hold integers, got dtype float64"),
    # --- sampler arguments
    ("target_accept_above_one", sample_kw(target_accept=1.2), ValueError, r"target_accept must be in \(0, 1\)"),
    ("metric_unknown", sample_kw(metric="full"), ValueError, r"metric='full' is not known"),
    ("adapt_unknown", sample_kw(adapt="fast"), ValueError, r"adapt='fast' is not known"),
    ("low_rank_with_stan_windows", sample_kw(metric="low_rank", adapt="stan"), ValueError,
     r"metric='low_rank' .* use adapt='fisher'"),
    ("chains_zero", sample_kw(chains=0), ValueError, r"chains must be a positive integer, got 0"),
    ("cores_zero", sample_kw(cores=0), ValueError, r"cores must be a positive integer"),
    ("draws_negative", sample_kw(draws=-5), ValueError, r"draws must be a non-negative integer, got -5"),
    ("draws_and_tune_zero", sample_kw(draws=0, tune=0), ValueError, r"draws and tune are both 0"),
    ("seed_negative", sample_kw(seed=-1), ValueError, r"seed must be an integer in \[0, 2\*\*64\)"),
    ("seed_too_large", sample_kw(seed=2 ** 70), ValueError, r"seed must be an integer in \[0, 2\*\*64\)"),
    ("seed_float", sample_kw(seed=1.5), ValueError, r"seed must be an integer"),
    ("threads_per_chain_zero", sample_kw(threads_per_chain=0), ValueError, r"threads_per_chain must be an integer"),
    ("init_unknown_name", sample_kw(init={"nu": 1.0}), ValueError, r"init names unknown parameters \['nu'\]"),
    ("init_outside_support", sample_kw(init={"tau": -1.0}), ValueError, r"init for 'tau': values must be > 0"),
    ("init_wrong_shape", sample_kw(init={"z": np.zeros(3)}), ValueError, r"init for 'z' has shape \(3,\)"),
    ("sample_not_a_model", lambda env: bb.sample(env.result), TypeError, r"sample\(\) needs a bb.Model, got Result"),
    ("model_without_parameters", lambda env: bb.sample(bb.Model()), ValueError, r"the model has no free parameters"),
    # --- resume
    ("resume_not_a_result", lambda env: bb.sample(schools(), resume=42, progressbar=False), TypeError,
     r"resume must be a bb.Result"),
    ("resume_missing_file", lambda env: bb.sample(schools(), resume="nowhere/run.nc", progressbar=False),
     FileNotFoundError, r"Result.load: no file at nowhere/run.nc"),
    ("resume_chains_mismatch", resume_kw(chains=3, draws=10), ValueError, r"the run has 2 chains, got chains=3"),
    ("resume_other_model", resume_kw(model=lambda: schools(2.5), draws=10), ValueError,
     r"resume: the run was sampled from a different model or different data"),
    ("resume_finished_without_draws", resume_kw(), ValueError, r"resume: every chain has finished .* pass draws=N"),
    ("resume_draws_zero", resume_kw(draws=0), ValueError, r"draws must be a positive integer \(the draws to add"),
    ("checkpoint_of_another_run", lambda env: bb.sample(schools(), draws=10, tune=10, chains=1, progressbar=False,
                                                        checkpoint=env.checkpoint), FileExistsError,
     r"run.ckpt already holds a checkpoint of another run; continue that run with resume=.*overwrite=True"),
    ("fit_many_build_fails", lambda env: bb.fit_many(fails_on_second, [1, 2, 3], draws=10, tune=10, chains=1),
     ValueError, r"fit_many: build datasets\[1\] failed: ValueError: no data for 2"),
    # --- results, predictive draws, files
    ("summary_without_draws", lambda env: env.warmup_only.summary(), ValueError, r"this result holds no kept draws"),
    ("summary_unknown_variable", lambda env: env.result.summary(["sigma"]), ValueError,
     r"summary: unknown variables \['sigma'\]"),
    ("predictive_given_a_model", lambda env: bb.sample_posterior_predictive(schools()), TypeError,
     r"posterior predictive draws: pass the result of bb.sample\(model\), not the model"),
    ("predictive_given_a_glm_fit", lambda env: bb.sample_posterior_predictive(env.fit), TypeError,
     r"pass a bb.Result from bb.sample, got GLMFit \(for a bb.glm fit pass fit.result\)"),
    ("prior_predictive_draws_zero", lambda env: bb.sample_prior_predictive(schools(), draws=0), ValueError,
     r"draws must be a positive integer"),
    ("concat_different_runs", lambda env: bb.concat(env.result, env.warmup_only), ValueError,
     r"concat: the results have \[2, 1\] chains"),
    # --- formula interface and poststratification
    ("formula_unknown_column", lambda env: bb.glm("vote ~ agee", env.survey, family="bernoulli"), ValueError,
     r"column 'agee' is not in data .*did you mean 'age'"),
    ("formula_float_grouping", lambda env: bb.glm("vote ~ 1 + (1 | score)", env.survey, family="bernoulli"),
     ValueError, r"grouping column 'score' holds non-integer numbers"),
    ("formula_repeated_term", lambda env: bb.glm("vote ~ 1 + (1 | state) + (1 | state)", env.survey,
                                                 family="bernoulli"), ValueError,
     r"\(1 \| state\) repeats the varying effect\(s\) \['Intercept'\]"),
    ("formula_ordinal_counted_from_one", lambda env: bb.glm("rating ~ age", env.survey, family="ordered_logistic"),
     ValueError, r"the response 'rating' holds categories 1..4, so category 0 is never observed.*Recode the response, "
                 r"e.g. y - 1"),
    ("formula_binomial_without_trials", lambda env: bb.glm("vote ~ age", env.survey, family="binomial"), ValueError,
     r"family 'binomial' needs the number of trials"),
    ("poststratify_hand_built_result", lambda env: bb.poststratify(env.result, census(), "n"), TypeError,
     r"poststratify: this result comes from a hand-built model.*prediction="),
    ("poststratify_prediction_unknown", lambda env: bb.poststratify(env.result, census(), "n", prediction="p"),
     ValueError, r"prediction 'p' is not a variable of the result"),
    ("poststratify_level_case", lambda env: bb.poststratify(env.fit, census(state=["ca", "ny", "tx"]), "n"),
     ValueError, r"grouping column 'state' in the poststratification table: 3 of 3 rows have levels the survey "
                 r"never saw \(e.g. 'ca'"),
    ("poststratify_text_for_number", lambda env: bb.poststratify(env.fit, census(age=["young", "1", "2"]), "n"),
     ValueError, r"column 'age' in the poststratification table holds text \(e.g. 'young'\)"),
    ("poststratify_missing_weights", lambda env: bb.poststratify(env.fit, census(), "count"), ValueError,
     r"weights column 'count' is not in the poststratification table"),
    ("poststratify_negative_weights", lambda env: bb.poststratify(env.fit, census(n=[1, -2, 3]), "n"), ValueError,
     r"weights column 'n' must be finite and >= 0"),
    ("poststratify_missing_column", lambda env: bb.poststratify(env.fit, census().drop(columns="state"), "n"),
     ValueError, r"grouping column 'state' is not in the poststratification table"),
    ("poststratify_by_unknown", lambda env: bb.poststratify(env.fit, census(), "n", by="region"), ValueError,
     r"by column 'region' is not in the poststratification table"),
]


@pytest.fixture(scope="module")
def env():
    return Env()


@pytest.mark.parametrize("build,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_clear_message(env, build, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match):
            build(env)


def test_table_covers_the_cases():
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_any_flipped_bit_is_reported_corrupted(env, tmp_path, where, bit):
    # a flipped bit in the netCDF body can make the HDF5 reader hang: the checksum is checked first
    path = tmp_path / "run.nc"
    raw = bytearray(env.saved_bytes)
    raw[int(where * len(raw))] ^= 1 << bit
    path.write_bytes(bytes(raw))
    with pytest.raises(bb.ResultFileError, match=r"run.nc is (truncated or )?corrupted"):
        bb.Result.load(path)


@pytest.mark.parametrize("cut", [0, 10, 4000, -1])
def test_truncated_file_is_reported(env, tmp_path, cut):
    with pytest.raises(bb.ResultFileError, match=r"run.nc is truncated or corrupted") as err:
        bb.Result.load(env.saved(tmp_path, cut))
    assert "0.1.0" not in str(err.value)    # the current version: no advice about files of older ones


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        bb.Result.load(tmp_path / "nowhere.nc")


def test_a_run_whose_draws_cannot_fit_in_memory_is_refused_before_it_starts(monkeypatch):
    # 64 chains x 10^7 draws of 1,000 parameters is 5 TB: refused at once, with a draws= that fits
    from brr_bayes.infer import runner
    started = []
    monkeypatch.setattr(runner, "run", lambda *a, **k: started.append(a))
    with bb.Model() as m:
        bb.Normal("z", 0, 1, shape=1000)
    with pytest.raises(ValueError, match=r"64 chains x 10,000,000 draws x \(1,000 parameters .* take [\d.]+ GB, "
                                         r"more than the [\d.]+ GB of memory available: pass draws=[\d,]+ or fewer"):
        bb.sample(m, sampler="chees", chains=64, draws=10_000_000, tune=10, progressbar=False)
    assert not started   # nothing sampled


def test_the_memory_check_counts_outputs_warm_up_and_warns_past_half():
    import warnings
    from brr_bayes.infer.memory import check_fits, row_bytes
    with bb.Model() as m:
        z = bb.Normal("z", 0, 1, shape=10)
        bb.Deterministic("w", bb.math.exp(z))
    assert row_bytes(m, chains=4) == 8 * 4 * (10 + 20)   # the draw, z and w
    config = dict(chains=4, draws=1000, tune=500, keep_warmup=False)
    need = row_bytes(m, 4) * 1000
    check_fits(m, config, available=2 * need)             # half: fine
    from brr_bayes.infer.diagnostics import SamplingWarning
    with pytest.warns(SamplingWarning, match="more than half"):
        check_fits(m, config, available=1.5 * need)
    with pytest.raises(ValueError, match=r"pass draws=\d+ or fewer .*fewer chains, or keep_warmup=False"):
        check_fits(m, dict(config, keep_warmup=True), available=1.2 * need)   # 1,500 rows with the warm-up
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_fits(m, config, available=None)              # where memory cannot be read: no check
