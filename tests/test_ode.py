"""bb.ode.solve: solutions against scipy.integrate.solve_ivp (the same RK45 and BDF schemes, so they
agree to rounding), sensitivities against exact solutions of linear systems (hypothesis inputs) and
against finite differences, a stiff system, failures as NaN, bad inputs named, serialisation, and a
Lotka-Volterra posterior: truth recovered and agreement with a long BDF reference run."""
import json
import pathlib
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import brr_bayes as bb
from brr_bayes import ops
from helpers import fd_grad
from ode_models import TRUTH, lotka_volterra, lv_rhs, simulate

TIMES = np.linspace(0.5, 12.0, 15)
REFERENCE = pathlib.Path(__file__).resolve().parent / "data" / "ode" / "lotka_volterra_reference.json"


def lv_model(method, rtol=1e-6, atol=1e-6, times=TIMES):
    with bb.Model() as m:
        theta = bb.Flat("theta", shape=4)
        z0 = bb.Flat("z0", shape=2)

        def rhs(t, z):
            return [(theta[0] - theta[1] * z[1]) * z[0], (-theta[2] + theta[3] * z[0]) * z[1]]
        z = bb.Deterministic("z", bb.ode.solve(rhs, z0, times, method=method, rtol=rtol, atol=atol))
        bb.Potential("p", (bb.math.log(z) * np.linspace(-1, 1, z.size).reshape(z.shape)).sum())
    return m


def lv_jac(theta):
    a, b, g, d = theta
    return lambda t, z: np.array([[a - b * z[1], -b * z[0]], [d * z[1], -g + d * z[0]]])


def lv_augmented(theta):
    """The Lotka-Volterra states and their sensitivities S = dz/d[z0, theta] (2 x 6) as one system, as Stan's
    coupled rk45 integrates them: z' = f, S' = J_z S + J_theta."""
    a, b, g, d = theta

    def f(t, z):
        u, v = z[:2]
        S = z[2:].reshape(2, 6)
        Jz = np.array([[a - b * v, -b * u], [d * v, -g + d * u]])
        Jp = np.zeros((2, 6))
        Jp[0, 2:4] = [u, -v * u]
        Jp[1, 4:6] = [-v, u * v]
        return np.concatenate([[(a - b * v) * u, (-g + d * u) * v], (Jz @ S + Jp).ravel()])
    return f


@pytest.mark.parametrize("method", ["rk45", "bdf"])
@settings(max_examples=15, deadline=None)
@given(a=st.floats(0.3, 1.0), b=st.floats(0.01, 0.05), g=st.floats(0.4, 1.0), d=st.floats(0.01, 0.05),
       u0=st.floats(10, 50), v0=st.floats(2, 10), tol=st.sampled_from([1e-3, 1e-6, 1e-9]))
def test_equals_scipy_solve_ivp_of_the_states_with_their_sensitivities(method, a, b, g, d, u0, v0, tol):
    # the error test reads the sensitivities too (Stan's coupled system): RK45 is scipy's RK45 on the
    # augmented system, step for step, so equal up to rounding whatever the tolerance; BDF solves the
    # sensitivities exactly after the states' Newton iteration where scipy iterates on both, so its steps
    # differ: it is as accurate as scipy's, against a tight solve
    theta, z0 = np.array([a, b, g, d]), np.array([u0, v0])
    m = lv_model(method, rtol=tol, atol=tol)
    got = m.constrain(np.concatenate([theta, z0]))["z"]
    S0 = np.zeros((2, 6))
    S0[0, 0] = S0[1, 1] = 1.0
    ref = solve_ivp(lv_augmented(theta), (0.0, TIMES[-1]), np.concatenate([z0, S0.ravel()]), t_eval=TIMES,
                    method="RK45" if method == "rk45" else "BDF", rtol=tol, atol=tol)
    assert ref.success
    if method == "rk45":
        np.testing.assert_allclose(got, ref.y[:2].T, rtol=1e-8, atol=1e-8)
        return
    exact = solve_ivp(lv_rhs(theta), (0.0, TIMES[-1]), z0, t_eval=TIMES, rtol=1e-12, atol=1e-12, method="DOP853").y.T

    def error(z):
        return np.max(np.abs(z - exact) / (tol + np.abs(exact)))
    assert error(got) <= max(3 * error(ref.y[:2].T), 1.0), (error(got), error(ref.y[:2].T))


@pytest.mark.parametrize("method", ["rk45", "bdf"])
@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_sensitivities_of_a_linear_system_equal_the_exact_ones(method, n, seed):
    # y' = A y: y(t) = expm(A t) y0, so d/dA and d/dy0 of sum_k w_k . y(t_k) are known without any solver
    rng = np.random.default_rng(seed)
    A0 = rng.normal(0, 0.5, (n, n)) - np.eye(n)
    y00 = rng.normal(0, 1, n)
    W = rng.normal(size=(len(TIMES), n))
    with bb.Model() as m:
        A = bb.Flat("A", shape=(n, n))
        y0 = bb.Flat("y0", shape=n)
        y = bb.ode.solve(lambda t, y: bb.math.sum(A * y[None, :], axis=1), y0, TIMES, method=method,
                         rtol=1e-10, atol=1e-12)
        bb.Potential("p", (y * W).sum())

    def exact(x):
        Am, y0v = x[:n * n].reshape(n, n), x[n * n:]
        lam, V = np.linalg.eig(Am)     # expm(A t) = V exp(lam t) V^-1: fast enough to difference
        if np.linalg.cond(V) > 1e6:
            return sum(W[k] @ (expm(Am * t) @ y0v) for k, t in enumerate(TIMES))
        c = np.linalg.solve(V, y0v)
        return sum(float(np.real(W[k] @ (V @ (np.exp(lam * t) * c)))) for k, t in enumerate(TIMES))
    x = np.concatenate([A0.ravel(), y00])
    lp, g = m.logp_and_grad(x)
    assert lp == pytest.approx(exact(x), rel=1e-7, abs=1e-8)
    np.testing.assert_allclose(g, fd_grad(exact, x, h=1e-4), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("method", ["rk45", "bdf"])
def test_gradient_matches_finite_differences_of_a_tight_solve(method):
    m = lv_model(method, rtol=1e-10, atol=1e-10)
    x = np.array([0.55, 0.028, 0.8, 0.024, 33.0, 6.2])
    lp, g = m.logp_and_grad(x)
    fd = fd_grad(m.logp, x, h=1e-5 * np.maximum(1, np.abs(x)).min())
    np.testing.assert_allclose(g, fd, rtol=2e-5)
    assert m.logp(x) == lp   # with or without sensitivities, the same steps: the same value


def test_stiff_robertson_with_bdf_and_rk45_running_out_of_steps():
    times = np.array([1e-2, 1.0, 1e2, 1e4])

    def robertson(k):
        def f(t, y):
            return [-k[0] * y[0] + k[2] * y[1] * y[2], k[0] * y[0] - k[2] * y[1] * y[2] - k[1] * y[1] ** 2,
                    k[1] * y[1] ** 2]
        return f

    k = np.array([0.04, 3e7, 1e4])
    with bb.Model() as m:
        logk = bb.Flat("logk", shape=3)
        rate = bb.math.exp(logk)

        def rhs(t, y):
            return [-rate[0] * y[0] + rate[2] * y[1] * y[2],
                    rate[0] * y[0] - rate[2] * y[1] * y[2] - rate[1] * y[1] ** 2, rate[1] * y[1] ** 2]
        y_bdf = bb.Deterministic("bdf", bb.ode.solve(rhs, [1.0, 0.0, 0.0], times, method="bdf", rtol=1e-6, atol=1e-10))
        y_rk = bb.Deterministic("rk", bb.ode.solve(rhs, [1.0, 0.0, 0.0], times, rtol=1e-6, atol=1e-10, max_steps=2000))
    vals = m.constrain(np.log(k))
    # as accurate as scipy's BDF (which controls the states' error alone), against a tight Radau solve
    ref = solve_ivp(robertson(k), (0, times[-1]), [1.0, 0, 0], method="BDF", t_eval=times, rtol=1e-6, atol=1e-10)
    exact = solve_ivp(robertson(k), (0, times[-1]), [1.0, 0, 0], method="Radau", t_eval=times, rtol=1e-12,
                      atol=1e-18).y.T

    def error(y):
        return np.max(np.abs(y - exact) / (1e-10 + np.abs(exact)))
    assert error(vals["bdf"]) <= max(2 * error(ref.y.T), 1e-6), (error(vals["bdf"]), error(ref.y.T))
    np.testing.assert_allclose(vals["bdf"].sum(axis=1), 1.0, rtol=1e-6)   # mass is conserved
    assert np.isnan(vals["rk"][-1]).all() and np.isfinite(vals["rk"][0]).all()  # too stiff for 2000 RK steps


def test_failed_solve_is_a_rejected_point_not_a_crash():
    with bb.Model() as m:
        r = bb.Flat("r")
        y = bb.ode.solve(lambda t, y: r * y ** 2, [1.0], [0.5, 2.0], max_steps=500)   # blows up at t = 1/r
        bb.Potential("p", y.sum())
    assert np.isfinite(m.logp(np.array([0.1])))
    lp, g = m.logp_and_grad(np.array([1.0]))
    assert np.isnan(lp)


def test_max_steps_counts_the_steps_between_two_output_times():
    # Stan's max_num_steps: y' = -y to rtol 1e-10 takes about 50 steps per unit of time, so 100 steps are
    # enough for each of 20 outputs a unit apart (about 1,000 in all), not for one output 20 units away
    def solve(times):
        with bb.Model() as m:
            k = bb.Flat("k")
            bb.Deterministic("y", bb.ode.solve(lambda t, y: -k * y, [1.0], times, rtol=1e-10, atol=1e-12,
                                               max_steps=100))
        return m.constrain(np.array([1.0]))["y"][:, 0]
    many = np.arange(1.0, 21.0)
    np.testing.assert_allclose(solve(many), np.exp(-many), rtol=1e-7, atol=1e-11)
    assert np.isnan(solve(np.array([20.0]))).all()


def _blow_up_model(method="rk45", max_steps=500):
    # y' = r y^2, y(0) = 1: y = 1 / (1 - r t), which has no solution to t = 2 for r >= 1/2; the data put
    # the posterior against that edge
    with bb.Model() as m:
        r = bb.Uniform("r", 0.0, 1.0)
        y = bb.ode.solve(lambda t, y: r * y ** 2, [1.0], [0.5, 2.0], method=method, max_steps=max_steps)
        bb.Normal("obs", y[0, 0], 0.1, observed=1.2)
    return m


def _blow_up_posterior():
    """(mean, sd) of r under _blow_up_model's posterior truncated where the solve exists (r < 1/2), by quadrature."""
    from scipy import integrate, stats
    dens = lambda r: stats.norm.pdf(1.2, 1 / (1 - 0.5 * r), 0.1)  # noqa: E731
    z = integrate.quad(dens, 0, 0.5)[0]
    mean = integrate.quad(lambda r: r * dens(r), 0, 0.5)[0] / z
    return mean, np.sqrt(integrate.quad(lambda r: (r - mean) ** 2 * dens(r), 0, 0.5)[0] / z)


def test_a_solve_that_fails_mid_run_is_a_divergence_named_by_its_cause():
    # proposals past r = 1/2 fail their solve; the run goes on, each such transition is a divergence that
    # says why (per draw in sample_stats, counted by Result.divergences(), in the warning), and the draws
    # are those of the posterior truncated where the solve exists, as Stan rejects such proposals
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = bb.sample(_blow_up_model(), draws=1000, tune=500, chains=2, seed=3, progressbar=False)
    div = res.divergences()
    assert set(div) == {"ode_max_steps"} and div["ode_max_steps"] > 50, div
    reasons = res.sample_stats["divergence_reason"]
    assert reasons.dtype == np.uint8 and np.array_equal(reasons != 0, res.sample_stats["diverging"])
    assert any("ode_max_steps (an ODE solve took more than max_steps" in str(w.message) for w in caught)
    mean, sd = _blow_up_posterior()
    d = res.posterior["r"]
    rhat, ess = bb.convergence.rhat_and_ess_bulk(d)
    assert rhat < 1.02 and abs(d.mean() - mean) < 4 * sd / np.sqrt(ess), (d.mean(), mean, ess)
    assert abs(d.std() / sd - 1) < 0.15, (d.std(), sd)


@pytest.mark.parametrize("sampler", ["chees", "meads"])
def test_the_ensembles_name_a_failed_solve_too(sampler):
    # their batch evaluations carry each lane's cause (BatchLogDensity::last_failure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(_blow_up_model(), sampler=sampler, chains=8, draws=300, tune=300, seed=3, progressbar=False)
    div = res.divergences()
    assert set(div) == {"ode_max_steps"} and div["ode_max_steps"] > 20, div
    mean, _ = _blow_up_posterior()
    assert abs(res.posterior["r"].mean() - mean) < 0.02, (res.posterior["r"].mean(), mean)


def test_a_failed_solve_fails_the_density_even_where_its_failed_outputs_are_unused():
    # r = 0.7: y(0.5), which the likelihood reads, exists; y(2) does not. The scalar and the batch
    # executors both give NaN, so Pathfinder, logp() and every sampler see the same rejected point
    m = _blow_up_model()
    x = np.array([m.unconstrain({"r": 0.3})[0], m.unconstrain({"r": 0.7})[0]])
    assert np.isfinite(m.logp(x[:1])) and np.isnan(m.logp(x[1:]))
    lp, _ = m.compiled.program.logp_and_grad_batch(x[:, None])
    assert np.isfinite(lp[0]) and np.isnan(lp[1])


@pytest.mark.parametrize("method, max_steps, cause", [("rk45", 100_000, "ode_step_too_small"),
                                                      ("bdf", 100_000, "ode_step_too_small"),
                                                      ("bdf", 500, "ode_max_steps")])
def test_each_cause_of_a_failed_solve_is_named(method, max_steps, cause):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(_blow_up_model(method, max_steps), draws=200, tune=200, chains=1, seed=3, progressbar=False)
    assert set(res.divergences()) == {cause}


def test_a_right_hand_side_not_finite_at_the_start_is_named():
    with bb.Model() as m:
        r = bb.Uniform("r", 0.0, 1.0)
        y = bb.ode.solve(lambda t, y: bb.math.log(r - 0.5) * y, [1.0], [0.5, 2.0])   # NaN for r < 1/2
        bb.Normal("obs", y[0, 0], 0.3, observed=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=200, tune=200, chains=1, seed=3, init={"r": 0.9}, progressbar=False)
    assert set(res.divergences()) == {"ode_not_finite"}


def test_explain_shows_a_solve_s_step_budget():
    m = lotka_volterra(simulate(), rtol=1e-5, atol=1e-3)
    row = next(r for r in m.explain().ops if r["op"] == "ode_solve")
    assert row["detail"].startswith("rk45, 2 states, 4 parameters, 20 output times; budget: <= 100,000 steps "
                                    "per output interval (2,000,000 per solve)"), row["detail"]
    assert "over 2 states + 12 sensitivities" in row["detail"]


def test_loose_tolerances_still_give_a_smooth_log_density():
    # The Stan case study's tolerances (rtol 1e-5, atol 1e-3) at a start far from the posterior, where
    # the populations crash to well below atol: with an error test on the states alone the steps grew
    # until log(z) was noise of the parameters (central differences of the log density over 1e-6 were
    # in the millions and of either sign) and NUTS's step size collapsed to 1e-10 there. With the
    # sensitivities in the error test, differences at three spacings agree and the gradient (the
    # derivative of the discrete solution for its steps) has their sign and size.
    m = lotka_volterra(simulate(), rtol=1e-5, atol=1e-3)
    far = dict(alpha=4.1443, beta=1.1661, gamma=3.0852, delta=4.7654, z0=np.array([4.6661, 3.3279]),
               sigma=np.array([1.5804, 0.1455]))
    x = m.unconstrain(far)
    d = np.random.default_rng(0).normal(size=m.dim)
    d /= np.linalg.norm(d)
    fd = [(m.logp(x + h * d) - m.logp(x - h * d)) / (2 * h) for h in (1e-5, 1e-6, 1e-7)]
    np.testing.assert_allclose(fd, fd[1], rtol=1e-4)
    g = m.logp_and_grad(x)[1] @ d
    assert 0.5 < g / fd[1] < 1.5, (g, fd)


def test_a_right_hand_side_may_branch_on_time():
    # dy/dt = -k y from t = 2 on, 0 before (a dose at t = 2): bb.math.where on the traced time, as scipy runs
    # np.where on it; the same scheme and steps, so equal up to rounding, and the gradient is that of the branch
    times = np.linspace(0.5, 6.0, 12)
    with bb.Model() as m:
        k = bb.Flat("k")
        y = bb.Deterministic("y", bb.ode.solve(lambda t, z: bb.math.where(t > 2.0, -k * z, 0.0 * z), [3.0], times,
                                               rtol=1e-10, atol=1e-10))
        bb.Potential("p", (y * np.linspace(-1, 1, times.size)[:, None]).sum())
    ref = solve_ivp(lambda t, z: np.where(t > 2.0, -0.7 * z, 0.0 * z), (0.0, times[-1]), [3.0], t_eval=times,
                    rtol=1e-10, atol=1e-10)
    got = m.constrain(np.array([0.7]))["y"]
    np.testing.assert_allclose(got[:, 0], ref.y[0], rtol=1e-8)
    np.testing.assert_allclose(got[:, 0], 3.0 * np.exp(-0.7 * np.maximum(times - 2.0, 0.0)), rtol=1e-7)
    lp, g = m.logp_and_grad(np.array([0.7]))
    exact = (np.linspace(-1, 1, times.size) * -np.maximum(times - 2.0, 0.0) * 3.0
             * np.exp(-0.7 * np.maximum(times - 2.0, 0.0))).sum()
    np.testing.assert_allclose(g[0], exact, rtol=1e-6)


def test_initial_state_and_captured_parameters_both_get_gradients():
    # y' = -k y: y(t) = y0 exp(-k t), with k = exp(u) a transformed parameter captured by the closure
    with bb.Model() as m:
        u = bb.Flat("u")
        y0 = bb.Flat("y0")
        k = bb.math.exp(u)
        y = bb.ode.solve(lambda t, y: -k * y, bb.math.stack([y0]), [1.0, 2.0], rtol=1e-10, atol=1e-12)
        bb.Deterministic("y", y)
        bb.Potential("p", y.sum())
    uv, y0v = np.log(0.7), 1.3
    t = np.array([1.0, 2.0])
    np.testing.assert_allclose(m.constrain(np.array([uv, y0v]))["y"][:, 0], y0v * np.exp(-0.7 * t), rtol=1e-9)
    _, g = m.logp_and_grad(np.array([uv, y0v]))
    np.testing.assert_allclose(g, [np.sum(-t * 0.7 * y0v * np.exp(-0.7 * t)), np.sum(np.exp(-0.7 * t))], rtol=1e-8)


def test_compiles_to_one_op_and_pickles():
    m = lv_model("rk45")
    codes = m.compiled.program.op_codes()
    assert codes.count(ops.ODE_SOLVE) == 1 and m.compiled.program.num_functions() == 1
    x = np.array([0.55, 0.028, 0.8, 0.024, 33.0, 6.2])
    p2 = pickle.loads(pickle.dumps(m.compiled.program))
    assert p2.logp_and_grad(x)[0] == m.logp(x)
    np.testing.assert_array_equal(p2.logp_and_grad(x)[1], m.logp_and_grad(x)[1])
    assert lv_model("rk45").compiled.fingerprint == m.compiled.fingerprint   # content, not addresses


def test_bad_inputs_are_named():
    with bb.Model():
        k = bb.Flat("k")
        f = lambda t, y: -k * y  # noqa: E731
        with pytest.raises(ValueError, match="times must be finite, strictly increasing"):
            bb.ode.solve(f, [1.0], [2.0, 1.0])
        with pytest.raises(ValueError, match="strictly increasing and >= t0"):
            bb.ode.solve(f, [1.0], [0.5, 1.0], t0=1.0)
        with pytest.raises(ValueError, match="method must be one of"):
            bb.ode.solve(f, [1.0], [1.0], method="euler")
        with pytest.raises(ValueError, match="rtol must be a positive number"):
            bb.ode.solve(f, [1.0], [1.0], rtol=0)
        with pytest.raises(ValueError, match="max_steps must be a positive integer"):
            bb.ode.solve(f, [1.0], [1.0], max_steps=0)
        with pytest.raises(ValueError, match="y0 must be a vector"):
            bb.ode.solve(f, np.ones((2, 2)), [1.0])
        with pytest.raises(ValueError, match="y0 holds NaN"):
            bb.ode.solve(f, [np.nan], [1.0])
        with pytest.raises(ValueError, match=r"returned shape \(2,\), expected \(1,\)"):
            bb.ode.solve(lambda t, y: [y[0], y[0]], [1.0], [1.0])
        with pytest.raises(ValueError, match="uses a log density"):
            bb.ode.solve(lambda t, y: bb.Normal.logp(y, k, 1), [1.0], [1.0])
        with pytest.raises(TypeError, match="must return an expression"):
            bb.ode.solve(lambda t, y: "dy", [1.0], [1.0])


def test_predictive_draws_use_the_same_solver():
    m = lv_model("rk45")
    x = np.array([0.55, 0.028, 0.8, 0.024, 33.0, 6.2])
    from brr_bayes.compile.evaluate import evaluate_at
    from brr_bayes.compile.lower import evaluate_in_core
    rvs = {rv.name: rv for rv in m.free_rvs}
    z_node = dict((n, e) for n, e, _ in m.deterministics)["z"]
    got = evaluate_at([z_node], {rvs["theta"]: x[:4], rvs["z0"]: x[4:]}, evaluate_in_core)[0]
    np.testing.assert_array_equal(got, m.constrain(x)["z"])


def test_lotka_volterra_posterior_recovers_the_truth_and_matches_the_reference_run():
    m = lotka_volterra(simulate())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=400, tune=400, chains=2, seed=7, init="pathfinder", progressbar=False)
    ref = json.loads(REFERENCE.read_text())
    truth = dict(alpha=TRUTH["alpha"], beta=TRUTH["beta"], gamma=TRUTH["gamma"], delta=TRUTH["delta"])
    truth.update({"z0[0]": TRUTH["z0"][0], "z0[1]": TRUTH["z0"][1], "sigma[0]": 0.25, "sigma[1]": 0.25})
    for name, value in truth.items():
        base, _, idx = name.partition("[")
        d = res.posterior[base] if not idx else res.posterior[base][..., int(idx[:-1])]
        rhat, ess = bb.convergence.rhat_and_ess_bulk(d)   # unrounded, unlike summary()'s display
        mean, sd = d.mean(), d.std(ddof=1)
        assert rhat < 1.05, (name, rhat)
        assert abs(mean - value) < 3.5 * sd, (name, mean, sd, value)
        r = ref[name]
        # two runs' means differ by their Monte Carlo errors combined; sds within 25%
        z = (mean - r["mean"]) / np.sqrt(sd ** 2 / ess + r["sd"] ** 2 / r["ess_bulk"])
        assert abs(z) < 4, (name, mean, r["mean"], z)
        assert abs(sd / r["sd"] - 1) < 0.25, (name, sd, r["sd"])
