"""brr_bayes.portable and the BLAS-free L-BFGS: the same answers as LAPACK / scipy to rounding, and the
constants that reach programs (BYM2's scaling factor) equal in every bit under other BLAS kernels."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st
from scipy import optimize

from brr_bayes import portable
from brr_bayes.infer.lbfgs import minimize_lbfgs
from brr_bayes.model import priors


def _spd(rng, n):
    A = rng.normal(size=(n, n))
    return A @ A.T + n * np.eye(n)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_products_and_factorisations_match_lapack(n, k, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.normal(size=(n, k)), rng.normal(size=(k, 5))
    np.testing.assert_allclose(portable.matmul(A, B), A @ B, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(portable.matmul(A, B[:, 0]), A @ B[:, 0], rtol=1e-12, atol=1e-12)
    S = _spd(rng, n)
    L = portable.cholesky(S)
    np.testing.assert_allclose(L, np.linalg.cholesky(S), rtol=1e-10, atol=1e-12)
    b = rng.normal(size=(n, 3))
    np.testing.assert_allclose(portable.solve_lower(L, b), np.linalg.solve(L, b), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(portable.solve_upper(L.T, b[:, 0]), np.linalg.solve(L.T, b[:, 0]), rtol=1e-9, atol=1e-10)
    Q, R = portable.qr(A)
    K = min(n, k)
    assert Q.shape == (n, K) and R.shape == (K, k)
    np.testing.assert_allclose(Q @ R, A, atol=1e-12)
    np.testing.assert_allclose(Q.T @ Q, np.eye(K), atol=1e-12)
    assert np.allclose(R, np.triu(R))


def test_banded_cholesky_and_inverse_diagonal():
    rng = np.random.default_rng(2)
    n, band = 40, 3
    S = _spd(rng, n)
    S[np.abs(np.subtract.outer(np.arange(n), np.arange(n))) > band] = 0.0
    L = portable.cholesky(S, bandwidth=band)
    np.testing.assert_allclose(L, np.linalg.cholesky(S), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(portable.banded_inverse_diagonal(L, band), np.diag(np.linalg.inv(S)), rtol=1e-10)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        portable.cholesky(-S)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 30), st.floats(0.05, 0.6), st.integers(0, 2**31 - 1))
def test_icar_variances_are_the_pseudo_inverse_diagonal(m, density, seed):
    # random connected graphs: a path keeps them connected, random chords make them irregular
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(size=(m, m)) < density, 1).astype(float)
    A[np.arange(m - 1), np.arange(1, m)] = 1.0
    A = A + A.T
    Q = np.diag(A.sum(1)) - A
    want = np.diag(np.linalg.pinv(Q))
    np.testing.assert_allclose(priors.icar_constrained_variances(sp.csr_matrix(A)), want, rtol=1e-9)


def test_bym2_scaling_factor_is_the_same_under_other_blas_kernels():
    import other_machine
    env, what = other_machine.other_kernels()
    if env is None:
        pytest.skip(what)
    code = ("import numpy as np\nfrom brr_bayes.model import priors\nfrom workloads import data\n"
            "d = data.make_w3()\ne = np.stack([d['node1'], d['node2']], 1)\n"
            "print(json.dumps([float(priors.bym2_scaling_factors(900, e)[0][0]).hex(), float(d['scaling_factor']).hex()]))")
    theirs, _ = other_machine.run_elsewhere(code, env)
    from workloads import data
    d = data.make_w3()
    mine = [float(priors.bym2_scaling_factors(900, np.stack([d["node1"], d["node2"]], 1))[0][0]).hex(),
            float(d["scaling_factor"]).hex()]
    assert theirs == mine, what


def test_lbfgs_matches_scipy_on_rosenbrock():
    def f(x):
        a, b = x[:-1], x[1:]
        val = np.sum(100 * (b - a ** 2) ** 2 + (1 - a) ** 2)
        g = np.zeros_like(x)
        g[:-1] += -400 * a * (b - a ** 2) - 2 * (1 - a)
        g[1:] += 200 * (b - a ** 2)
        return val, g
    x0 = np.full(6, -1.2)
    seen = []
    res = minimize_lbfgs(f, x0, maxiter=2000, callback=seen.append)
    ref = optimize.minimize(f, x0, jac=True, method="L-BFGS-B")
    assert res.status == "converged" and len(seen) == res.nit
    np.testing.assert_allclose(res.x, ref.x, atol=1e-4)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-4)


def test_lbfgs_steps_back_from_outside_the_support():
    # -log of a gamma-like density on x > 0: +inf at x <= 0, where a unit step from x = 0.3 would land
    res = minimize_lbfgs(lambda x: (np.inf, np.zeros(1)) if x[0] <= 0 else (float(3 * x[0] - 2 * np.log(x[0])),
                                                                           np.array([3 - 2 / x[0]])), np.array([5.0]))
    assert res.status == "converged"
    np.testing.assert_allclose(res.x, [2 / 3], rtol=1e-5)
