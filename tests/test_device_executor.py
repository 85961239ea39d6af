"""The device executor (csrc/backend/grid_executor.hpp): the kernels a GPU runs, here launched over their
index grids in a host loop, against the scalar executor on every workload and every written form, on every
op test's model (helpers.assert_batch_matches), with ops it has no kernel for refused by code. The same
kernels on a GPU are checked in test_cuda.py where a device is visible."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brr_bayes as bb
from brr_bayes import ops
from workloads import data, forms, models
from device_models import op_family_models
from helpers import assert_devices_share_data, assert_grid_matches, workloads
from test_glm_kernel import CHUNKED, FAMILIES, _model

WORKLOADS = workloads()


@pytest.fixture(scope="module", params=sorted(WORKLOADS))
def workload(request):
    make, build = WORKLOADS[request.param]
    d = make()
    built = {"workloads": build(d)}
    built.update({name: fn(d) for name, fn in forms.FORMS.get(request.param, {}).items()})
    return request.param, built


def test_every_workload_and_form_runs_on_device_kernels(workload):
    w, built = workload
    for name, m in built.items():
        assert m.compiled.program.device_unsupported_ops() == [], (w, name)
        X = np.random.default_rng(len(name)).normal(scale=0.5, size=(6, m.dim))
        assert_grid_matches(m, X, rtol=1e-10)


def test_results_are_the_same_bits_every_call():
    # no atomics: group sums run over fixed row lists, reductions over fixed chunks
    m = models.bym2(data.make_w3())
    X = np.random.default_rng(3).normal(scale=0.5, size=(4, m.dim))
    a = m.compiled.program.logp_and_grad_grid(X)
    b = m.compiled.program.logp_and_grad_grid(X)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [5, 3001, CHUNKED])
def test_glm_families(family, n):
    m = _model(family, n, seed=n, with_dense=(n == 5))
    assert_grid_matches(m, 0.3 * np.random.default_rng(n).normal(size=(3, m.dim)), rtol=1e-10)


def test_invalid_scale_gives_minus_infinity_in_its_lane_only():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=50), rng.normal(size=50)
    with bb.Model() as m:
        b = bb.Normal("b", 0, 1)
        s = bb.Flat("s")
        bb.Normal("y", b * x, s, observed=y)
    X = np.array([[0.1, 1.0], [0.1, -1.0]])
    lp, _ = m.compiled.program.logp_and_grad_grid(X)
    assert np.isfinite(lp[0]) and lp[1] == -np.inf


def test_an_op_without_a_device_kernel_is_refused_by_code():
    with bb.Model() as m:   # an ODE solve's adaptive steps differ lane by lane: no device kernel yet
        k = bb.HalfNormal("k", 1)
        z = bb.ode.solve(lambda t, y: -k * y, np.array([1.0]), np.array([0.5, 1.0]))
        bb.Potential("p", -(z ** 2).sum())
    p = m.compiled.program
    assert p.device_unsupported_ops() == [ops.ODE_SOLVE]
    with pytest.raises(ValueError, match=f"op code {ops.ODE_SOLVE} has no device kernel"):
        p.logp_and_grad_grid(np.zeros((2, m.dim)))


@pytest.mark.parametrize("code", sorted(op_family_models()))
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 1.5))
def test_new_device_kernels_match_the_scalar_executor(code, seed, scale):
    m = op_family_models()[code]
    program = m.compiled.program
    assert code in program.op_codes(), ops.name(code)       # the model really runs the kernel under test
    assert program.device_unsupported_ops() == []
    X = np.random.default_rng(seed).normal(scale=scale, size=(5, m.dim))
    assert_grid_matches(m, X, rtol=1e-10)


def test_nuts_chains_on_the_device_pass_the_reference(references, monkeypatch):
    # device= with NUTS: each chain evaluates its own points through a single-lane device executor
    # (host-emulated here); the draws are not the CPU run's (sums associate differently), the posterior is
    import json
    import warnings
    import posteriordb_models as pm
    from test_posteriordb import _checker
    folder = "eight_schools-eight_schools_noncentered"
    model = pm.eight_schools_noncentered(json.load(open(references / folder / "data.json")))
    from brr_bayes.infer import runner
    made, real = [], runner.device_evaluator
    monkeypatch.setattr(runner, "device_evaluator", lambda *a: made.append(real(*a)) or made[-1])
    kw = dict(draws=1000, tune=1000, chains=4, seed=20261202, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(model, device="cuda-emulated", **kw)
        again = bb.sample(model, device="cuda-emulated", **kw)
    assert res.config["device"] == "cuda-emulated"
    assert [d.lanes for d in made[0]] == [1, 1, 1, 1]                        # one single-point evaluator per chain
    assert all(d.shares_data_with(made[0][0]) for d in made[0])              # over one copy of the data
    np.testing.assert_array_equal(res.unconstrained, again.unconstrained)   # no atomics: same seed, same draws
    ok, rows = _checker(references)(res.posterior, str(references / folder), verbose=True)
    assert ok, [r for r in rows if r.get("status") != "ok"]


def test_evaluators_built_with_share_read_one_copy_of_the_data_and_compute_the_same():
    # NUTS on a device holds one single-lane evaluator per chain; share= makes them read one device
    # copy of the model's data (W2's rows would otherwise be copied once per chain)
    from brr_bayes import _backend
    m = models.mrp_logit(data.make_w2(n=20_000))
    own = assert_devices_share_data(_backend.core().HostGridDevice, m,
                                    refused="share: that HostGridDevice holds another program's data")
    assert own.data_bytes > 8 * 20_000 and own.workspace_bytes > 0   # the data: at least one column of rows
    x = np.random.default_rng(3).normal(scale=0.3, size=(1, m.dim))
    for got, want in zip(own.logp_and_grad(x), m.compiled.program.logp_and_grad_grid(x)):
        np.testing.assert_array_equal(got, want)


def _leapfrog_reference(program, q, p, g, lp, minv, eps, steps):
    """The host loop the device trajectory replaces: one grid evaluation of every lane per step."""
    q, p, g, lp = q.copy(), p.copy(), g.copy(), lp.copy()
    ok, evals = np.ones(len(q), bool), np.zeros(len(q), np.int64)
    for _ in range(steps):
        live = ok.copy()
        p[live] += 0.5 * eps * g[live]
        q[live] += eps * (minv * p[live])       # common/leapfrog_math.hpp: q + eps (M^-1 p)
        new_lp, new_g = program.logp_and_grad_grid(q)
        usable = np.isfinite(new_lp) & np.isfinite(new_g).all(axis=1)
        g[live], lp[live] = new_g[live], new_lp[live]
        evals[live] += 1
        kick = live & usable
        p[kick] += 0.5 * eps * g[kick]
        ok = live & usable
    return q, p, g, lp, ok, evals


@pytest.mark.parametrize("kind", ["W5", "wall"])
def test_device_leapfrog_is_the_host_loop(kind):
    # GridExecutor::leapfrog keeps a whole trajectory on the device: each lane as the loop above steps it,
    # stopping at a point whose density is not finite (the "wall" model is NaN outside a ball)
    from brr_bayes import _backend
    if kind == "W5":
        m = models.radon(data.make_w5())
    else:
        with bb.Model() as m:
            x = bb.Normal("x", 0, 3, shape=3)
            bb.Potential("wall", bb.math.log(1 - (x * x).sum() / 4))
    program = m.compiled.program
    B, rng = 6, np.random.default_rng(7)
    q = rng.normal(scale=0.3, size=(B, m.dim))
    lp, g = program.logp_and_grad_grid(q)
    p = rng.normal(size=(B, m.dim))
    minv = rng.uniform(0.5, 2.0, size=m.dim)
    eps, steps = (0.02, 12) if kind == "W5" else (0.3, 20)
    dev = _backend.core().HostGridDevice(program, B)
    got = dev.leapfrog(q, p, g, lp, minv, eps, steps)
    want = _leapfrog_reference(program, q, p, g, lp, minv, eps, steps)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert dev.trajectories == 1
    if kind == "wall":
        assert 0 < got[4].sum() < B            # some lanes met the wall, some did not
        assert (got[5][~got[4]] < steps).all()  # a stopped lane counts only its steps
    np.testing.assert_array_equal(dev.leapfrog(q, p, g, lp, minv, eps, 0)[0], q)   # no steps: the starts


def test_device_leapfrog_checks_its_arguments():
    from brr_bayes import _backend
    m = models.eight_schools(data.make_w1())
    dev = _backend.core().HostGridDevice(m.compiled.program, 2)
    z, lp, minv = np.zeros((2, m.dim)), np.zeros(2), np.ones(m.dim)
    with pytest.raises(ValueError, match=r"q must have shape \(2, 10\)"):
        dev.leapfrog(np.zeros((3, m.dim)), z, z, lp, minv, 0.1, 3)
    with pytest.raises(ValueError, match=r"lp must have shape \(2\)"):
        dev.leapfrog(z, z, z, np.zeros(3), minv, 0.1, 3)
    with pytest.raises(ValueError, match=r"minv\[4\] = -1.0+: the inverse metric must be positive"):
        dev.leapfrog(z, z, z, lp, np.where(np.arange(m.dim) == 4, -1.0, 1.0), 0.1, 3)
    with pytest.raises(ValueError, match="eps = 0.0+: the step size must be positive"):
        dev.leapfrog(z, z, z, lp, minv, 0.0, 3)
    with pytest.raises(ValueError, match="steps = -1: must be from 0"):
        dev.leapfrog(z, z, z, lp, minv, 0.1, -1)
    with pytest.raises(ValueError, match=r"points must have shape \(2, 10\)"):
        dev.logp_and_grad(np.zeros((3, m.dim)))


def test_long_segments_and_sums_are_added_up_in_pieces():
    # A group of 70,000 rows (one state of a big survey) is summed in pieces of 256 rows, then pieces of
    # those, instead of by one thread over all of them; the same for plain sums over many rows, a shared
    # cutpoint's rows, a sparse design's long column and an axis sum. Every one against the scalar executor.
    import scipy.sparse as sp
    rng = np.random.default_rng(5)
    n = 70_000
    one, three = np.zeros(n, dtype=np.int64), rng.integers(0, 3, n)
    x, cat = rng.normal(size=n), rng.integers(0, 4, n)
    A = sp.csr_matrix(np.stack([np.ones(n), (rng.random(n) < 0.3) * rng.normal(size=n)], axis=1))
    with bb.Model() as m:
        a = bb.Normal("a", 0, 1, shape=1)
        u = bb.Normal("u", 0, 1, shape=3)
        b = bb.Normal("b", 0, 1)
        bb.Bernoulli("y", logit_p=a[one] + u[three] + b * x, observed=rng.integers(0, 2, n))
        c = bb.Normal("c", 0, 3, shape=3, transform="ordered")
        bb.OrderedLogistic("o", b * x, c, observed=cat)
        w = bb.Normal("w", 0, 1, shape=2)
        bb.Normal("s", A @ w, 1.0, observed=rng.normal(size=n))
        v = bb.Normal("v", 0, 1, shape=(n // 2, 2))
        bb.Potential("col", -(v.sum(axis=0) ** 2).sum() / n)
    m.compile_options = bb.CompileOptions(compress=False)
    codes = m.compiled.program.op_codes()
    for code in (ops.GLM, ops.ORDERED_LOGISTIC, ops.CSR_MATVEC, ops.SCATTER_ADD):
        assert code in codes, ops.name(code)
    X = np.random.default_rng(1).normal(scale=0.3, size=(2, m.dim))
    assert_grid_matches(m, X, rtol=1e-10)


@given(lengths=st.lists(st.integers(0, 70_000), min_size=1, max_size=6))
@settings(max_examples=40, deadline=None)
def test_segments_are_cut_so_no_thread_adds_more_than_256(lengths):
    # the cuts behind the segmented sums: pieces of at most 256 items that never straddle two segments,
    # covering every entry once, level after level until each segment has at most 256 items
    from brr_bayes import _backend
    start = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    levels, last = _backend.core()._cut_segments(start)
    cur = start
    for bounds in levels:
        assert bounds[0] == 0 and bounds[-1] == cur[-1] and np.all(np.diff(bounds) >= 1)
        assert np.all(np.diff(bounds) <= 256)
        assert set(cur[:-1]) - {cur[-1]} <= set(bounds)   # every non-empty segment starts a piece
        # the pieces of segment j are last-level items [next[j], next[j + 1])
        nxt = [0] + [sum(1 for b in bounds[:-1] if b < cur[j + 1]) for j in range(len(cur) - 1)]
        cur = nxt
    assert last == cur
    assert max(np.diff(last), default=0) <= 256
    assert len(levels) == (0 if max(lengths) <= 256 else 1 if max(lengths) <= 256 * 256 else 2)
