"""Structured priors against dense references: ICAR vs the Gaussian with precision Q on the zero-sum
subspace, BYM2 scaling factors vs a dense pseudo-inverse (islands too), random walks and AR(1) vs
their explicit multivariate normals, RandomEffect levels for interactions."""
import numpy as np
import pytest
from scipy import stats

import brr_bayes as bb
from helpers import assert_grad

# two components (a 4-cycle with a chord, and a path of 3) and one island (node 7)
EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [0, 2], [4, 5], [5, 6]])
N = 8


def dense_Q(n, edges):
    Q = np.zeros((n, n))
    for i, j in edges:
        Q[i, j] = Q[j, i] = -1
    Q[np.arange(n), np.arange(n)] = -Q.sum(1)
    return Q


def zero_sum_per_component(v, comps):
    v = v.copy()
    for c in comps:
        v[c] -= v[c].mean()
    return v


def test_icar_matches_gaussian_with_precision_q_on_the_subspace():
    with bb.Model() as m:
        bb.ICAR("phi", N, edges=EDGES)
    Q = dense_Q(N, EDGES)
    comps = [np.arange(4), np.arange(4, 7)]
    rng = np.random.default_rng(0)
    a, b = (zero_sum_per_component(rng.normal(size=N), comps) for _ in range(2))
    # on the subspace the soft constraint vanishes: logp = -1/2 phi'Q phi - 1/2 island^2
    for v in (a, b):
        assert abs(m.logp(v) - (-0.5 * v @ Q @ v - 0.5 * v[7] ** 2)) < 1e-10
    # differences match the (singular) Gaussian with covariance pinv(Q) on the connected part
    Qc = Q[:7, :7]
    mvn = stats.multivariate_normal(np.zeros(7), np.linalg.pinv(Qc), allow_singular=True)
    ref = mvn.logpdf(a[:7]) - mvn.logpdf(b[:7]) - 0.5 * (a[7] ** 2 - b[7] ** 2)
    assert abs((m.logp(a) - m.logp(b)) - ref) < 1e-8
    assert_grad(m, rng.normal(size=N))


def test_icar_soft_sum_to_zero_penalises_each_component():
    with bb.Model() as m:
        bb.ICAR("phi", N, edges=EDGES, zero_sum_sd=0.01)
    v = np.zeros(N)
    v[:4] = 1.0  # component 0 shifted: no edge term, sum = 4
    assert abs(m.logp(v) - (-0.5 * (4 / (0.01 * 4)) ** 2)) < 1e-9


def test_bym2_scaling_factor_matches_dense_pseudo_inverse_with_islands():
    s, comp = bb.bym2_scaling_factors(N, EDGES)
    Q = dense_Q(N, EDGES)
    for nodes in (np.arange(4), np.arange(4, 7)):
        var = np.diag(np.linalg.pinv(Q[np.ix_(nodes, nodes)]))
        np.testing.assert_allclose(s[nodes], np.exp(np.mean(np.log(var))), rtol=1e-10)
    assert s[7] == 1.0 and len(np.unique(comp)) == 3


def test_bym2_lattice_scaling_factor_matches_the_workload_generator():
    from workloads import make_w3
    d = make_w3()
    s, _ = bb.bym2_scaling_factors(900, np.stack([d["node1"], d["node2"]], 1))
    assert abs(s[0] - float(d["scaling_factor"])) < 1e-5 * s[0]


def test_bym2_builds_and_has_gradients():
    with bb.Model() as m:
        b = bb.BYM2("b", N, edges=EDGES)
        bb.Poisson("y", log_mu=1.0 + b, observed=np.arange(N) % 3)
    assert m.dim == 2 * N + 2
    assert_grad(m, np.random.default_rng(1).normal(scale=0.5, size=m.dim))


def _prior_cov(build, key, draws=40000):
    with bb.Model() as m:
        build()
    x = bb.sample_prior_predictive(m, draws=draws, seed=3)["prior"][key][0]
    return np.cov(x.reshape(draws, -1).T)


def test_rw1_and_rw2_have_their_explicit_covariances():
    T, sigma = 6, 0.7
    L = np.tril(np.ones((T, T)))
    cov1 = _prior_cov(lambda: bb.RW1("x", sigma, shape=T), "x")
    np.testing.assert_allclose(cov1, sigma ** 2 * L @ L.T, atol=0.06 * sigma ** 2 * T)
    cov2 = _prior_cov(lambda: bb.RW2("x", sigma, shape=T), "x")
    L2 = L @ L
    np.testing.assert_allclose(cov2, sigma ** 2 * L2 @ L2.T, atol=0.05 * np.abs(sigma ** 2 * L2 @ L2.T).max())


def test_rw1_is_vectorised_over_groups():
    with bb.Model() as m:
        x = bb.RW1("x", 0.1, shape=(3, 5))
    z = np.random.default_rng(0).normal(size=15)
    np.testing.assert_allclose(m.constrain(z)["x"], np.cumsum(0.1 * z.reshape(3, 5), axis=1), rtol=1e-12)


@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.8])
def test_ar1_log_density_is_the_stationary_gaussian(rho):
    T, sigma = 7, 0.5
    with bb.Model() as m:
        bb.AR1("x", rho, sigma, shape=T)
    x = np.random.default_rng(2).normal(size=T)
    idx = np.arange(T)
    cov = sigma ** 2 / (1 - rho ** 2) * rho ** np.abs(idx[:, None] - idx[None, :])
    assert abs(m.logp(x) - stats.multivariate_normal(np.zeros(T), cov).logpdf(x)) < 1e-10
    assert_grad(m, x)


def test_random_effect_interactions_and_centering():
    state = np.array([0, 1, 1, 2, 0, 2])
    race = np.array([0, 0, 1, 1, 0, 1])
    with bb.Model() as m:
        eff = bb.RandomEffect("a", (state, race), 0.5)
    assert eff.shape == (6,) and m.dim == 4       # combinations that occur: (0,0) (1,0) (1,1) (2,1)
    assert list(m.coords["a_level"]) == ["0:0", "1:0", "1:1", "2:1"]
    z = np.array([0.1, -0.2, 0.3, 0.4])
    np.testing.assert_allclose(m.constrain(z)["a"], 0.5 * z)
    with bb.Model() as c:
        bb.RandomEffect("a", state, 0.5, centered=True)
    a = np.array([0.1, -0.3, 0.2])
    assert abs(c.logp(a) - stats.norm(0, 0.5).logpdf(a).sum()) < 1e-12
    with bb.Model():
        with pytest.raises(TypeError, match="must hold integer group ids"):
            bb.RandomEffect("b", state.astype(float), 1.0)
        with pytest.raises(ValueError, match="different lengths"):
            bb.RandomEffect("c", (state, race[:3]), 1.0)


def test_icar_bad_edges():
    with bb.Model():
        with pytest.raises(ValueError, match=r"edge node ids must lie in \[0, 3\]"):
            bb.ICAR("p", 4, edges=np.array([[0, 4]]))
        with pytest.raises(ValueError, match="self-loops"):
            bb.ICAR("q", 4, edges=np.array([[1, 1]]))


def test_shrinkage_priors_match_direct_simulation_of_their_hierarchy():
    rng = np.random.default_rng(5)
    M = 20000
    with bb.Model() as m:
        bb.RegularizedHorseshoe("b", 3, tau0=0.5, slab_scale=2.0, slab_df=4.0)
        bb.R2D2("r", 4, sigma=1.5, r2_mean=0.3, r2_prec=4.0)
    pp = bb.sample_prior_predictive(m, draws=M, seed=7)["prior"]
    lam = np.abs(rng.standard_cauchy((M, 3)))
    tau = 0.5 * np.abs(rng.standard_cauchy((M, 1)))
    c2 = 1.0 / rng.gamma(2.0, 1.0 / (2.0 * 4.0), (M, 1))
    hs = rng.normal(size=(M, 3)) * tau * np.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
    assert stats.ks_2samp(pp["b"][0, :, 0], hs[:, 0]).pvalue > 1e-3
    r2 = rng.beta(1.2, 2.8, (M, 1))
    phi = rng.dirichlet(np.ones(4), M)
    rd = rng.normal(size=(M, 4)) * 1.5 * np.sqrt(phi * r2 / (1 - r2))
    assert stats.ks_2samp(pp["r"][0, :, 1], rd[:, 1]).pvalue > 1e-3
    # and the check has power: a horseshoe with the slab removed is told apart
    assert stats.ks_2samp(pp["b"][0, :, 0], rng.normal(size=M) * tau[:, 0] * lam[:, 0]).pvalue < 1e-3


def test_bym2_on_a_connected_graph_fuses_into_the_likelihood():
    # one scaling factor: a scalar, so sigma * (sqrt(rho / s) * phi + sqrt(1 - rho) * theta) enters the fused
    # Poisson op term by term (as an array of 900 equal factors it cost a gather and a product of 900)
    from workloads import make_w3, models
    d = make_w3()
    n = int(d["N"])
    with bb.Model() as m:
        alpha, beta = bb.Normal("alpha", 0, 1), bb.Normal("beta", 0, 1)
        b = bb.BYM2("b", n, edges=np.stack([d["node1"], d["node2"]], 1))
        bb.Poisson("y", log_mu=d["log_E"] + alpha + beta * d["x"] + b, observed=d["y"])
    per_gradient = [r for r in m.explain().ops if r["logp"] and r["size"] == n]
    assert sorted(r["op"] for r in per_gradient) == ["glm", "icar_pairwise", "normal"], per_gradient
    # the same density as the workload's hand-written BYM2 (parameters in another order; its scaling
    # factor is the generator's, rounded to 1e-5, hence the tolerance)
    ref = models.bym2(d)
    x_ref = np.random.default_rng(4).normal(scale=0.3, size=ref.dim)
    lay = {name: sl for name, sl in zip(ref.param_names, np.split(np.arange(ref.dim), np.cumsum(
        [int(np.prod(ref.constrain(x_ref)[k].shape or (1,))) for k in ref.param_names])[:-1]))}
    order = ["alpha", "beta", "phi", "theta", "sigma", "rho"]
    x = np.concatenate([x_ref[lay[k]] for k in order])
    assert m.logp(x) == pytest.approx(ref.logp(x_ref), rel=1e-6)
    v = m.constrain(x)
    s = bb.bym2_scaling_factors(n, np.stack([d["node1"], d["node2"]], 1))[0][0]
    want = v["b_sigma"] * (np.sqrt(v["b_rho"] / s) * v["b_phi"] + np.sqrt(1 - v["b_rho"]) * v["b_theta"])
    np.testing.assert_allclose(v["b"], want, rtol=1e-12, atol=1e-15)


def test_bym2_with_islands_fuses_its_per_component_factors():
    # factors differ by component: sqrt(rho) times the data column 1 / sqrt(s), still one fused term
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5]])   # a 4-cycle, a pair, an island (6)
    s_nodes = bb.bym2_scaling_factors(7, edges)[0]
    assert len(np.unique(s_nodes)) > 1
    with bb.Model() as m:
        b = bb.BYM2("b", 7, edges=edges)
        bb.Poisson("y", log_mu=0.5 + b, observed=np.arange(7) % 3)
    per_gradient = [r["op"] for r in m.explain().ops if r["logp"] and r["size"] == 7]
    assert "mul" not in per_gradient and "glm" in per_gradient, per_gradient
    x = np.random.default_rng(5).normal(scale=0.5, size=m.dim)
    v = m.constrain(x)
    want = v["b_sigma"] * (np.sqrt(v["b_rho"] / s_nodes) * v["b_phi"] + np.sqrt(1 - v["b_rho"]) * v["b_theta"])
    np.testing.assert_allclose(v["b"], want, rtol=1e-12, atol=1e-15)
    assert_grad(m, x)


def test_icar_one_component_with_islands_sums_without_gathering_it():
    # the component's sum is the field's sum less the islands': no gather of the component's nodes
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 0]])   # nodes 4 and 5 are islands
    with bb.Model() as m:
        bb.ICAR("phi", 6, edges=edges, zero_sum_sd=0.01)
    gathers = [r["size"] for r in m.explain().ops if r["op"] == "gather"]
    assert gathers and max(gathers) == 2, gathers   # the islands only
    v = np.array([1.0, 1.0, 1.0, 1.0, 0.3, -0.7])   # component shifted: no edge term, its sum 4
    want = -0.5 * (4 / (0.01 * 4)) ** 2 - 0.5 * (0.3 ** 2 + 0.7 ** 2)
    assert abs(m.logp(v) - want) < 1e-9
    assert_grad(m, np.random.default_rng(6).normal(scale=0.01, size=6), rtol=1e-5)
