"""The batch executor (csrc/ad/batch.hpp): B points in one lane-interleaved sweep give each point what a
scalar evaluation gives it, bit for bit, on every workload and every way of writing it, on the lane kernels
and on the lane-by-lane fallback, whatever the tile and the threads. (Every op test's assert_grad also runs
helpers.assert_batch_matches.)"""
import numpy as np
import pytest

import brr_bayes as bb
from workloads import data, forms, models
from helpers import assert_batch_matches, workloads
from test_glm_kernel import CHUNKED, FAMILIES, _model

WORKLOADS = workloads()


def _points(m, lanes, seed=0, scale=0.5):
    return np.random.default_rng(seed).normal(scale=scale, size=(lanes, m.dim))


def _scalar(m, X):
    rows = [m.logp_and_grad(x) for x in X]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


@pytest.fixture(scope="module", params=sorted(WORKLOADS))
def workload(request):
    make, build = WORKLOADS[request.param]
    d = make()
    built = {"workloads": build(d)}
    for name, fn in forms.FORMS.get(request.param, {}).items():
        built[name] = fn(d)
    return request.param, built


def test_every_workload_and_form_matches_scalar(workload):
    w, built = workload
    for name, m in built.items():
        X = _points(m, 11, seed=len(name))
        lp, G = _scalar(m, X)
        for tile, threads in ((8, 1), (8, 2), (3, 1), (-1, 2), (0, 1)):
            blp, bG = m.compiled.program.logp_and_grad_batch(X, threads, True, tile)
            np.testing.assert_array_equal(blp, lp, err_msg=f"{w}/{name} tile {tile} threads {threads}")
            np.testing.assert_array_equal(bG, G, err_msg=f"{w}/{name} tile {tile} threads {threads}")


def test_workload_ops_run_on_lane_kernels(workload):
    # the sweep is not quietly lane by lane: every op of W1, W3, W4 (cumulative sums included) and W5
    # (its normal GLM with a parameter sigma) in every form is a lane kernel; W2 all but its chunked
    # likelihood
    w, built = workload
    for name, m in built.items():
        p = m.compiled.program
        native, total = p.batch_native_ops(), len(p.op_codes())
        if w == "W2":
            assert total - native <= 1, (w, name, native, total)
        else:
            assert native == total, (w, name, native, total)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [5, 1024, 3001, CHUNKED])
def test_glm_families_match_scalar(family, n):
    m = _model(family, n, seed=n, with_dense=(n == 5))
    assert_batch_matches(m, 0.3 * np.random.default_rng(n).normal(size=m.dim))


def test_invalid_lanes_stay_their_own():
    # lane 1's scale is negative (its density is -inf) while the others are finite: the normal kernel
    # hands that call to the lane-by-lane path, and every lane still equals its scalar evaluation
    with bb.Model() as m:
        s = bb.Flat("s")
        mu = bb.Normal("mu", 0, 1, shape=3)
        bb.Normal("y", mu, s, observed=np.array([0.1, -0.4, 0.9]))
    X = np.array([[1.0, 0.1, 0.2, 0.3], [-1.0, 0.1, 0.2, 0.3], [0.5, 0.0, 0.0, 0.0]])
    lp, G = _scalar(m, X)
    assert lp[1] == -np.inf and np.isfinite(lp[[0, 2]]).all()
    blp, bG = m.logp_and_grad_batch(X)
    np.testing.assert_array_equal(blp, lp)
    np.testing.assert_array_equal(bG, G)


def test_normal_glm_with_an_invalid_sigma_lane():
    # the fused normal GLM takes sigma per lane; a lane whose sigma is not positive sends that call lane by
    # lane (the scalar kernel gives -inf and no partials), and every lane still equals its scalar evaluation
    x = np.linspace(-1, 1, 7)
    g = np.array([0, 1, 2, 0, 1, 2, 0])
    with bb.Model() as m:
        s = bb.Flat("s")
        a = bb.Normal("a", 0, 1, shape=3)
        b = bb.Normal("b", 0, 1)
        bb.Normal("y", a[g] + b * x, s, observed=np.sin(3 * x))
    p = m.compiled.program
    assert p.batch_native_ops() == len(p.op_codes())
    for bad in (None, 1):
        X = _points(m, 9, seed=3)
        X[:, 0] = np.abs(X[:, 0]) + 0.2
        if bad is not None:
            X[bad, 0] = -0.5
        lp, G = _scalar(m, X)
        for tile in (8, 3, 16):
            blp, bG = p.logp_and_grad_batch(X, 1, True, tile)
            np.testing.assert_array_equal(blp, lp)
            np.testing.assert_array_equal(bG, G)
    assert lp[1] == -np.inf and np.isfinite(np.delete(lp, 1)).all()


def test_one_lane_and_many_lanes():
    m = models.eight_schools(data.make_w1())
    for lanes in (1, 8, 9, 64):
        X = _points(m, lanes, seed=lanes)
        lp, G = _scalar(m, X)
        blp, bG = m.logp_and_grad_batch(X, threads=2)
        np.testing.assert_array_equal(blp, lp)
        np.testing.assert_array_equal(bG, G)


@pytest.mark.parametrize("points,match", [
    (np.zeros(10), "shape"),
    (np.zeros((3, 9)), "model.dim = 10"),
    (np.zeros((0, 10)), "B >= 1"),
])
def test_bad_points_are_refused(points, match):
    m = models.eight_schools(data.make_w1())
    with pytest.raises(ValueError, match=match):
        m.logp_and_grad_batch(points)


def test_bad_threads_are_refused():
    m = models.eight_schools(data.make_w1())
    with pytest.raises(ValueError, match="threads must be >= 1"):
        m.logp_and_grad_batch(np.zeros((2, 10)), threads=0)


def test_model_keeps_its_batch_evaluator_between_calls():
    # the first call picks a way by timing them all (about 15 sweeps); later calls of the same shape reuse
    # that choice and scratch (a new evaluator per call made each call ~10-30x slower than a Python loop)
    m = models.bym2(data.make_w3())
    X = _points(m, 16, seed=5, scale=0.3)
    lp, G = _scalar(m, X)
    for threads in (1, 2, 1):
        first = m.logp_and_grad_batch(X, threads=threads)
        held = m.compiled._batch
        assert held.tile != 0 and held.lanes == 16
        second = m.logp_and_grad_batch(X, threads=threads)
        assert m.compiled._batch is held
        for blp, bG in (first, second):
            np.testing.assert_array_equal(blp, lp)
            np.testing.assert_array_equal(bG, G)
    m.logp_and_grad_batch(X[:3])
    assert m.compiled._batch.lanes == 3


def test_batch_calls_from_several_python_threads():
    # one kept evaluator, one scratch: concurrent calls take turns and each gets its own points' values
    from concurrent.futures import ThreadPoolExecutor
    m = models.radon(data.make_w5())
    sets = [_points(m, 12, seed=s, scale=0.3) for s in range(6)]
    want = [_scalar(m, X) for X in sets]
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda X: m.logp_and_grad_batch(X, threads=2), sets * 5))
    for k, (blp, bG) in enumerate(got):
        np.testing.assert_array_equal(blp, want[k % 6][0])
        np.testing.assert_array_equal(bG, want[k % 6][1])


def test_point_calls_reuse_one_workspace_and_match_a_fresh_one():
    # model.logp_and_grad keeps its workspace (a new one per call allocated and zeroed every slot): calls
    # at other points in between leave no trace, and concurrent calls (one on a workspace of its own) agree
    from concurrent.futures import ThreadPoolExecutor
    m = models.bym2(data.make_w3())
    X = _points(m, 8, seed=9, scale=0.3)
    fresh = [m.compiled.program.logp_and_grad(x) for x in X]   # a new workspace each
    for _ in range(2):
        for x, (lp, g) in zip(X, fresh):
            got = m.logp_and_grad(x)
            assert got[0] == lp and np.array_equal(got[1], g)
            assert m.logp(x) == lp
    held = m.compiled._point_eval
    assert held is not None and m.compiled._point() is held
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(m.logp_and_grad, list(X) * 20))
    for k, (lp, g) in enumerate(got):
        assert lp == fresh[k % 8][0] and np.array_equal(g, fresh[k % 8][1])
