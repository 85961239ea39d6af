"""NUTS, ChEES and MEADS one transition at a time from a given state (``_core.sampler_transition``, which
runs the samplers' own transition code), against a leapfrog computed here by hand on a standard normal,
where the gradient is -q: the trajectory's end, the energy error, the acceptance, the new state."""
import math

import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend

D = 3
MINV = np.array([0.5, 1.0, 2.0])
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@pytest.fixture(scope="module")
def program():
    with bb.Model() as m:
        bb.Normal("x", 0, 1, shape=D)
    return m.compiled.program


def step(program, sampler, seed=11, **state):
    return _backend.core().sampler_transition(program, sampler, state, seed)


def leapfrog(q, p, eps, steps, minv=MINV):
    """The leapfrog on H = q.q/2 + p.M^-1 p/2 (gradient of the log density: -q), as the samplers write it."""
    q, p = np.array(q, float), np.array(p, float)
    for _ in range(steps):
        p = p + 0.5 * eps * -q
        q = q + eps * (minv * p)
        p = p + 0.5 * eps * -q
    return q, p


def hamiltonian(q, p, minv=MINV):
    """-log density + kinetic energy, constants included (the samplers' energy statistic)."""
    return 0.5 * q @ q + D * HALF_LOG_2PI + 0.5 * p @ (minv * p)


def momenta(seed, chains):
    """The momenta the samplers draw first: chain c's first normals, p = z / sqrt(M^-1)."""
    core = _backend.core()
    return np.array([core.momentum_normals(seed, c, D) for c in range(chains)]) / np.sqrt(MINV)


START = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4], [-0.7, 0.9, 2.0], [0.0, 0.5, -1.1]])


def test_a_chees_transition_is_the_hand_leapfrog_and_its_metropolis_test(program):
    eps, L = 0.3, 7
    got = step(program, "chees", position=START, inv_metric=MINV, step_size=eps, steps=L)
    p0 = momenta(11, len(START))
    for c, q0 in enumerate(START):
        q1, p1 = leapfrog(q0, p0[c], eps, L)
        np.testing.assert_allclose(got["proposal_position"][c], q1, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(got["proposal_momentum"][c], p1, rtol=1e-13, atol=1e-14)
        err = hamiltonian(q1, p1) - hamiltonian(q0, p0[c])
        assert got["energy_error"][c] == pytest.approx(err, abs=1e-12)
        assert got["accept"][c] == pytest.approx(min(1.0, math.exp(-err)), abs=1e-12)
        moved = np.array_equal(got["position"][c], got["proposal_position"][c])
        assert moved or np.array_equal(got["position"][c], q0)
        assert moved or err > 0                     # a proposal of lower energy is always taken
        assert got["energy"][c] == pytest.approx(hamiltonian(q1, p1) if moved else hamiltonian(q0, p0[c]), abs=1e-12)
        assert got["logp"][c] == pytest.approx(-0.5 * got["position"][c] @ got["position"][c] - D * HALF_LOG_2PI)
    assert got["n_steps"] == [L] * len(START) and not any(got["diverging"])


def test_an_unstable_chees_trajectory_is_a_divergence_that_keeps_the_state(program):
    # eps sqrt(M^-1) = 3.5 > 2 in the third coordinate: the leapfrog grows without bound
    got = step(program, "chees", position=START, inv_metric=MINV, step_size=2.5, steps=200)
    assert all(got["diverging"]) and not np.any(got["accept"])
    np.testing.assert_array_equal(got["position"], START)


def test_a_meads_transition_refreshes_partly_steps_once_and_moves_the_slice(program):
    eps, alpha, delta = 0.8, 0.3, 0.15
    sigma = np.sqrt(MINV)
    p_prev = np.array([[0.2, -0.5, 1.0], [1.1, 0.3, -0.2], [-0.4, 0.0, 0.7], [0.9, -1.3, 0.1]])
    slice0 = np.array([0.9, -0.95, 0.1, -0.3])
    got = step(program, "meads", position=START, inv_metric=MINV, step_size=eps, momentum=p_prev, slice=slice0,
               alpha=alpha, delta=delta)
    core = _backend.core()
    for c, q0 in enumerate(START):
        p_white = math.sqrt(1 - alpha) * p_prev[c] + math.sqrt(alpha) * core.momentum_normals(11, c, D)
        p0 = p_white / sigma                                      # in the metric's units
        q1, p1 = leapfrog(q0, p0, eps, 1)
        np.testing.assert_allclose(got["proposal_position"][c], q1, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(got["proposal_momentum"][c], p1, rtol=1e-13, atol=1e-14)
        err = hamiltonian(q1, p1) - hamiltonian(q0, p0)
        assert got["energy_error"][c] == pytest.approx(err, abs=1e-12)
        u = math.fmod(slice0[c] + 1 + delta, 2) - 1               # the slice drifts, then Neal's test
        if abs(u) < math.exp(-err):
            np.testing.assert_array_equal(got["position"][c], got["proposal_position"][c])
            np.testing.assert_allclose(got["momentum"][c], p1 * sigma, rtol=1e-13)
            assert got["slice"][c] == pytest.approx(u * math.exp(err), rel=1e-12)
        else:                                                     # rejected: the momentum reverses
            np.testing.assert_array_equal(got["position"][c], q0)
            np.testing.assert_allclose(got["momentum"][c], -p_white, rtol=1e-13)
            assert got["slice"][c] == pytest.approx(u, rel=1e-12)
    # both outcomes were met: chain 0's slice drifts to -0.95 and its energy rises by 0.13 > -log 0.95
    assert 0 < sum(np.array_equal(got["position"][c], START[c]) for c in range(len(START))) < len(START)


def test_a_nuts_transition_ends_on_its_trajectory_with_that_point_s_energy(program):
    eps = 0.25
    got = step(program, "nuts", position=START, inv_metric=MINV, step_size=eps, max_treedepth=8)
    p0 = momenta(11, len(START))
    for c, q0 in enumerate(START):
        n = got["n_steps"][c]
        # Stan's depth counts the doublings kept; a last subtree that turned (or diverged) inside added its steps
        assert 2 ** got["depth"][c] - 1 <= n <= 2 ** (got["depth"][c] + 1) - 1
        # the chosen point is one of the leapfrog iterates forward or backward in time, within n steps
        candidates = [leapfrog(q0, p0[c], sign * eps, k) for k in range(n + 1) for sign in (1, -1)]
        dist = [np.max(np.abs(qk - got["position"][c])) for qk, _ in candidates]
        k = int(np.argmin(dist))
        assert dist[k] < 1e-12, dist[k]
        qk, pk = candidates[k]
        assert got["energy"][c] == pytest.approx(hamiltonian(qk, pk), abs=1e-11)
        assert got["energy_error"][c] == pytest.approx(hamiltonian(qk, pk) - hamiltonian(q0, p0[c]), abs=1e-11)
        assert 0 < got["accept"][c] <= 1
    assert any(not np.array_equal(got["position"][c], START[c]) for c in range(len(START)))


def test_the_same_state_and_seed_give_the_same_transition(program):
    for sampler, extra in [("nuts", {}), ("chees", dict(steps=5)),
                           ("meads", dict(momentum=np.zeros_like(START), slice=np.zeros(4), alpha=0.5))]:
        a = step(program, sampler, position=START, inv_metric=MINV, step_size=0.3, **extra)
        b = step(program, sampler, position=START, inv_metric=MINV, step_size=0.3, **extra)
        np.testing.assert_array_equal(a["position"], b["position"])
        c = step(program, sampler, seed=12, position=START, inv_metric=MINV, step_size=0.3, **extra)
        assert not np.array_equal(a["position"], c["position"]), sampler


@pytest.mark.parametrize("sampler,state,match", [
    ("hmc", {}, "sampler='hmc' is not known"),
    ("nuts", dict(position=np.zeros((2, 4))), r"state\['position'\] must be a 2-d array of chains x 3"),
    ("nuts", dict(position=np.zeros(3)), r"state\['position'\] must be a 2-d array"),
    ("nuts", dict(inv_metric=np.array([1.0, -1.0, 1.0])), r"state\['inv_metric'\]\[1\] = -1.0+: .* positive"),
    ("nuts", dict(step_size=0.0), r"state\['step_size'\] = 0.0+: must be positive"),
    ("chees", dict(steps=0), r"state\['steps'\] must be in \[1, 100000\]"),
    ("meads", dict(alpha=0.5), "state has no 'momentum'"),
    ("meads", dict(momentum=np.zeros((2, 3)), alpha=0.5), "state has no 'slice'"),
    ("meads", dict(momentum=np.zeros((2, 3)), slice=np.zeros(2), alpha=2.0), r"state\['alpha'\] must be in \(0, 1\]"),
])
def test_bad_states_are_named(program, sampler, state, match):
    full = dict(position=np.zeros((2, D)), inv_metric=np.ones(D), step_size=0.1)
    with pytest.raises(ValueError, match=match):
        step(program, sampler, **{**full, **state})


def test_a_start_outside_the_support_is_refused():
    with bb.Model() as m:
        x = bb.Normal("x", 0, 3, shape=2)
        bb.Potential("wall", bb.math.log(1 - (x * x).sum() / 4))   # NaN where |x| > 2
    with pytest.raises(ValueError, match=r"state\['position'\]\[1\]: the log density or its gradient is not finite"):
        step(m.compiled.program, "chees", position=np.array([[0.1, 0.2], [3.0, 0.0]]), inv_metric=np.ones(2),
             step_size=0.1, steps=3)


@pytest.mark.parametrize("sampler", ["chees", "meads"])
def test_an_ensemble_does_not_start_where_the_log_density_is_nan(sampler):
    # at x = (3, 0) the log density is NaN and its gradient finite: the ensembles' start check read the log
    # density before it was computed (argument order), started there and recorded NaN log densities
    import warnings
    with bb.Model() as m:
        x = bb.Normal("x", 0, 3, shape=2)
        bb.Potential("wall", bb.math.log(1 - (x * x).sum() / 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="not finite at the given initial values"):
            bb.sample(m, sampler=sampler, chains=8, tune=0, draws=3, init={"x": np.array([3.0, 0.0])},
                      progressbar=False)


def test_the_sampler_registry_is_the_one_list_of_samplers():
    # Python's names, its type hint and its lock-step set come from the C++ registry's table
    import typing
    from brr_bayes.infer import plan
    rows = _backend.core().samplers()
    assert [r["name"] for r in rows] == list(plan.samplers()) == list(typing.get_args(plan.SamplerName))
    assert {r["name"] for r in rows if r["lockstep"]} == {"chees", "meads"}
    assert not plan.is_lockstep("nuts") and plan.is_lockstep("chees") and not plan.is_lockstep(["chees"])


@pytest.mark.parametrize("given,match", [
    (dict(sampler="hmc"), "sampler='hmc' is not known. Expected one of: 'nuts', 'chees', 'meads'"),
    (dict(sampler="chees", chains=1), "pass chains >= 2"),
    (dict(sampler="chees", chains=8, adapt="stan"), "adapts a diagonal metric across chains"),
    (dict(target_accept=1.5), r"target_accept must be in \(0, 1\), got 1.5;"),
    (dict(metric="low_rank", adapt="stan"), "use adapt='fisher'"),
    (dict(max_treedepth=0), r"max_treedepth must be in \[1, 30\], got 0"),
    (dict(step_size=-0.1), "step_size must be positive and finite, got -0.1"),
])
def test_settings_are_checked_once_by_the_registry(given, match):
    # bb.sample's arguments and what the C++ sampler is started with go through the same check
    with pytest.raises(ValueError, match=match):
        _backend.core().check_sampler_config(given)


def test_the_registry_fills_in_the_defaults():
    core = _backend.core()
    assert core.check_sampler_config({})["options"]["adapt"] == "stan"
    assert core.check_sampler_config(dict(metric="low_rank"))["options"]["adapt"] == "fisher"   # chosen in one place
    assert core.check_sampler_config(dict(metric="dense", adapt="nutpie"))["options"]["adapt"] == "nutpie"
