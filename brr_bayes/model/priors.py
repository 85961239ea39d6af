"""Structured priors for multilevel and spatio-temporal models, built from the op program.

RandomEffect (with factor interactions), ICAR and BYM2 over a sparse edge list (islands handled
per connected component), and random walks / AR(1) along an axis, vectorised over groups.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .. import ops, portable
from . import math as bm
from .core import Deterministic, Model, Potential, shape_argument
from .distributions import Beta, Dirichlet, Flat, HalfCauchy, HalfNormal, InverseGamma, Normal
from .expr import Op, as_expr, constant_value


def _fixed(value, where, param, ok, requirement, fix):
    """Check a structured prior's parameter when it is a fixed number (expressions are left to their priors)."""
    v = constant_value(as_expr(value))
    if v is None:
        return
    bad = ~np.asarray(np.isfinite(v) & ok(v))
    if bad.any():
        got = np.asarray(v)[bad].ravel()[0] if np.ndim(v) else float(v)
        raise ValueError(f"{where}: {param} {requirement}, got {got:g}; {fix}")


def _positive_sigma(sigma, where):
    _fixed(sigma, where, "sigma", lambda v: v > 0, "must be > 0", "pass a positive scale (or a positive parameter, "
           "e.g. bb.HalfNormal)")


# --------------------------------------------------------------------------- group effects
def _combine_factors(index, name):
    """One 0-based id per row from one or several integer factors; labels 'a:b' for interactions."""
    factors = index if isinstance(index, (tuple, list)) else (index,)
    cols = []
    for k, f in enumerate(factors):
        a = np.asarray(f)
        if a.dtype.kind not in "iu":
            raise TypeError(f"RandomEffect '{name}': index {k} must hold integer group ids, got dtype {a.dtype}")
        if a.ndim != 1:
            raise ValueError(f"RandomEffect '{name}': index {k} must be 1-dimensional, got shape {a.shape}")
        if a.size and a.min() < 0:
            raise ValueError(f"RandomEffect '{name}': group ids must be >= 0, got {a.min()}")
        cols.append(a)
    if len({c.size for c in cols}) != 1:
        raise ValueError(f"RandomEffect '{name}': the factors have different lengths {[c.size for c in cols]}")
    if len(cols) == 1:
        return cols[0], int(cols[0].max()) + 1 if cols[0].size else 0, None
    keys = np.stack(cols, axis=1)
    levels, ids = np.unique(keys, axis=0, return_inverse=True)  # only combinations that occur
    labels = [":".join(str(v) for v in row) for row in levels]
    return ids.ravel(), len(levels), labels


def RandomEffect(name, index, sigma, *, centered=False, dims=None):
    """Group effect a[g] ~ Normal(0, sigma), returned gathered to the rows of ``index``.

    ``index`` is an integer array of group ids, or a tuple of them for an interaction (state x race):
    the combined levels are built for you, one per combination that occurs. The per-level effects are
    stored as the Deterministic ``name`` (non-centred: ``name_z`` holds the standard normals).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> state, race = np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1])
        >>> with bb.Model():
        ...     s = bb.HalfNormal("sigma_sr", 1)
        ...     eff = bb.RandomEffect("a_state_race", (state, race), s)   # 4 rows, 4 levels
    """
    model = Model.get_context(f"RandomEffect('{name}')")
    _positive_sigma(sigma, f"RandomEffect '{name}'")
    ids, n_levels, labels = _combine_factors(index, name)
    if dims is None and labels is not None:
        dims = f"{name}_level"
        model.add_coord(dims, labels)
    if dims is not None:
        dname = dims if isinstance(dims, str) else dims[0]
        if len(model.coords[dname]) < n_levels:
            raise ValueError(f"RandomEffect '{name}': dims '{dname}' has {len(model.coords[dname])} labels but the "
                             f"index has {n_levels} levels")
        shape = None
    else:
        shape = n_levels
    if centered:
        a = Normal(name, 0.0, sigma, dims=dims, shape=shape)
    else:
        z = Normal(f"{name}_z", 0.0, 1.0, dims=dims, shape=shape)
        a = Deterministic(name, as_expr(sigma) * z, dims=dims)
    return a[ids]


# --------------------------------------------------------------------------- spatial
def _edge_graph(n, edges, name):
    e = np.asarray(edges)
    if e.ndim != 2 or 2 not in e.shape:
        raise ValueError(f"{name}: edges must be an array of shape (n_edges, 2) (pairs of 0-based node ids)")
    if e.shape[1] != 2:
        e = e.T
    if e.dtype.kind not in "iu":
        raise TypeError(f"{name}: edges must hold integer node ids, got dtype {e.dtype}")
    if e.size and (e.min() < 0 or e.max() >= n):
        raise ValueError(f"{name}: edge node ids must lie in [0, {n - 1}], got {e.min()}..{e.max()}")
    if np.any(e[:, 0] == e[:, 1]):
        raise ValueError(f"{name}: self-loops are not allowed in an adjacency graph")
    if not len(e):
        raise ValueError(f"{name}: the graph has no edges, so each of its {n} nodes would be an island (independent "
                         "Normal(0, 1) values, no spatial smoothing); pass the neighbour pairs (edges=) or the adjacency "
                         "matrix, or use bb.Normal for independent effects")
    e = np.unique(np.sort(e, axis=1), axis=0)  # undirected, each edge once
    A = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return e, (A + A.T).tocsr()


def _from_adjacency(adjacency, name):
    A = sp.csr_matrix(adjacency)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name}: adjacency must be square, got {A.shape}")
    if (A != A.T).nnz:
        raise ValueError(f"{name}: adjacency must be symmetric")
    diag = A.diagonal()
    if np.any(diag != 0):
        i = int(np.flatnonzero(diag)[0])
        raise ValueError(f"{name}: adjacency has a non-zero diagonal (adjacency[{i}, {i}] = {diag[i]:g}): a node cannot "
                         "neighbour itself; set the diagonal to 0 (A.setdiag(0) or np.fill_diagonal(A, 0))")
    A.eliminate_zeros()
    if np.any(A.data != 1):
        k = int(np.flatnonzero(A.data != 1)[0])
        i, j = int(np.searchsorted(A.indptr, k, side="right") - 1), int(A.indices[k])
        raise ValueError(f"{name}: adjacency[{i}, {j}] = {A.data[k]:g}, but the ICAR takes an unweighted graph "
                         "(entries 0 or 1); pass (A != 0).astype(int) to count every non-zero entry as one neighbour")
    i, j = sp.triu(A, 1).nonzero()
    return A.shape[0], np.stack([i, j], axis=1)


def icar_precision(n, edges):
    """The ICAR precision Q = D - A (sparse CSR) of an undirected edge list."""
    _, A = _edge_graph(n, edges, "icar_precision")
    return (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()


def bym2_scaling_factors(n, edges):
    """Per-node scaling factor of the BYM2 model: for each connected component of size > 1, the
    geometric mean of the marginal variances of its ICAR field under a sum-to-zero constraint
    (Riebler et al. 2016); singletons (islands) get 1. Returns (factors[n], component id[n]).

    The factor is a constant of the compiled program, so it is computed without BLAS or LAPACK
    (brr_bayes.portable): the same bits, and so the same draws, on every x86-64 machine."""
    _, A = _edge_graph(n, edges, "bym2_scaling_factors")
    n_comp, comp = csgraph.connected_components(A, directed=False)
    factors = np.ones(n)
    for c in range(n_comp):
        nodes = np.flatnonzero(comp == c)
        if len(nodes) == 1:
            continue
        var = icar_constrained_variances(A[nodes][:, nodes])
        factors[nodes] = math.exp(math.fsum(math.log(v) for v in var) / len(var))
    return factors, comp


def icar_constrained_variances(adjacency):
    """Marginal variances of a connected graph's ICAR field under sum(phi) = 0: the diagonal of the
    Laplacian's pseudo-inverse Q+.

    With G the inverse of Q grounded at one node (that row and column removed, then padded with zeros)
    and P = I - 11'/m, Q+ = P G P, so diag(Q+)_i = G_ii - 2 (G1)_i / m + 1'G1 / m^2. Nodes are put in
    reverse Cuthill-McKee order first, so the grounded Q is banded and its Cholesky factor and the
    diagonal of its inverse cost m * bandwidth^2 (a 3,000-county map: well under a second)."""
    A = sp.csr_matrix(adjacency)
    m = A.shape[0]
    order = csgraph.reverse_cuthill_mckee(A, symmetric_mode=True)
    Ap = A[order][:, order].tocoo()
    band = int(np.max(np.abs(Ap.row - Ap.col))) if Ap.nnz else 0
    Ad = Ap.toarray()
    Qg = (np.diag(Ad.sum(axis=1)) - Ad)[:-1, :-1]      # grounded at the last node in that order
    L = portable.cholesky(Qg, bandwidth=band)
    g_diag = np.append(portable.banded_inverse_diagonal(L, band), 0.0)
    g_one = np.append(portable.solve_upper(L.T, portable.solve_lower(L, np.ones(m - 1))), 0.0)
    var_p = g_diag - 2.0 * g_one / m + float(np.sum(g_one)) / (m * m)
    var = np.empty(m)
    var[order] = var_p
    return var


class _IcarPairwise:
    """-1/2 sum over edges (phi_i - phi_j)^2 as one fused op (value and gradient in one pass)."""

    def __init__(self, phi, edges):
        self.phi, self.edges = phi, edges

    def lower(self, C):
        n = self.phi.size
        C.op(ops.ICAR_PAIRWISE, [C.slot(self.phi)], idx=[C.index(self.edges[:, 0], n), C.index(self.edges[:, 1], n)])


def ICAR(name, n=None, *, edges=None, adjacency=None, dims=None, zero_sum_sd=0.001):
    """Intrinsic CAR field phi with log p = -1/2 sum over edges (phi_i - phi_j)^2.

    Each connected component gets a soft sum-to-zero constraint sum(phi_c) ~ Normal(0, zero_sum_sd * n_c)
    (as the Stan case studies do); islands (nodes without neighbours) get phi_i ~ Normal(0, 1).
    Give ``edges`` (pairs of 0-based node ids) or a symmetric ``adjacency`` matrix.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model():
        ...     phi = bb.ICAR("phi", 4, edges=np.array([[0, 1], [1, 2], [2, 3]]))
    """
    if (edges is None) == (adjacency is None):
        raise TypeError(f"ICAR '{name}': pass exactly one of edges= or adjacency=")
    if adjacency is not None:
        n, edges = _from_adjacency(adjacency, f"ICAR '{name}'")
    if n is None:
        raise TypeError(f"ICAR '{name}': pass the number of nodes n")
    e, A = _edge_graph(int(n), edges, f"ICAR '{name}'")
    n_comp, comp = csgraph.connected_components(A, directed=False)
    phi = Flat(name, shape=None if dims else int(n), dims=dims)
    if len(e):
        Model.get_context().add_density(f"{name}_icar", _IcarPairwise(phi, e))
    sizes = np.bincount(comp, minlength=n_comp)
    multi = np.flatnonzero(sizes > 1)
    lone = np.flatnonzero(sizes[comp] == 1)
    if len(multi) == 1:
        # one connected component: its sum is the whole field's less the islands' (a Sum, no gather of
        # the component's nodes; twice as fast as gathering them)
        total = phi.reshape(-1).sum()
        if len(lone):
            total = total - phi[lone].sum()
        Potential(f"{name}_zero_sum", -0.5 * bm.square(total / (zero_sum_sd * sizes[multi[0]])))
    elif len(multi):
        order = np.argsort(comp, kind="stable")
        in_multi = np.isin(comp[order], multi)
        sums = phi[order[in_multi]].reshape(-1)
        # per-component sums as a scatter-add: phi ordered by component, summed per component
        seg = np.searchsorted(multi, comp[order][in_multi])
        comp_sums = Op("scatter", [sums], (len(multi),), index=seg, out_size=len(multi))
        Potential(f"{name}_zero_sum", -0.5 * bm.square(comp_sums / (zero_sum_sd * sizes[multi])))
    if len(lone):
        Potential(f"{name}_islands", -0.5 * bm.square(phi[lone]))
    return phi


def BYM2(name, n=None, *, edges=None, adjacency=None, sigma=None, rho=None, dims=None):
    """BYM2 convolution sigma * (sqrt(rho / s) * phi + sqrt(1 - rho) * theta) (Riebler et al. 2016).

    phi is an ICAR field, theta iid N(0, 1), s the per-component scaling factor computed from the graph
    (islands: s = 1 and phi_i ~ N(0, 1)). ``sigma`` and ``rho`` default to HalfNormal(1) and
    Beta(0.5, 0.5) priors named ``name_sigma`` and ``name_rho``. Returns the convolved effect.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model():
        ...     b = bb.BYM2("b", 4, edges=np.array([[0, 1], [1, 2], [2, 3]]))
    """
    if sigma is not None:
        _positive_sigma(sigma, f"BYM2 '{name}'")
    if rho is not None:
        _fixed(rho, f"BYM2 '{name}'", "rho", lambda v: (v >= 0) & (v <= 1), "(the spatial share of the variance) must "
               "lie in [0, 1]", "pass a value in [0, 1], or leave rho out for a Beta(0.5, 0.5) prior")
    if adjacency is not None:
        n, edges = _from_adjacency(adjacency, f"BYM2 '{name}'")
    phi = ICAR(f"{name}_phi", n, edges=edges, dims=dims)
    theta = Normal(f"{name}_theta", 0.0, 1.0, shape=None if dims else int(n), dims=dims)
    s, _ = bym2_scaling_factors(int(n), edges)
    if np.all(s == s[0]):   # one factor (a connected graph): a scalar, so that sigma * conv fuses term by term
        s = float(s[0])     # into the likelihood (a per-node array of equal values cost a gather and a product)
    sigma = HalfNormal(f"{name}_sigma", 1.0) if sigma is None else sigma
    rho = Beta(f"{name}_rho", 0.5, 0.5) if rho is None else rho
    if isinstance(s, float):
        conv = bm.sqrt(rho / s) * phi + bm.sqrt(1.0 - rho) * theta
    else:   # factors differ by component (islands): sqrt(rho) times a data column, still a fused term
        conv = bm.sqrt(rho) * (phi * (1.0 / np.sqrt(s))) + bm.sqrt(1.0 - rho) * theta
    return Deterministic(name, sigma * conv, dims=dims)


# --------------------------------------------------------------------------- time
def _walk_shape(shape, dims, name):
    model = Model.get_context(name)
    if dims is not None:
        return model._dims_shape(dims, name)[1]
    if shape is None:
        raise TypeError(f"{name}: pass shape= or dims=")
    return shape_argument(shape, name)


def RW1(name, sigma, *, shape=None, dims=None, axis=-1):
    """Gaussian random walk along ``axis``: x_t = x_{t-1} + sigma * z_t, x_0 = sigma * z_0 (non-centred).

    Vectorised over the other axes (50 states x 100 days is one block). Returns x (a Deterministic).
    """
    shp = _walk_shape(shape, dims, f"RW1('{name}')")
    _positive_sigma(sigma, f"RW1 '{name}'")
    z = Normal(f"{name}_z", 0.0, 1.0, shape=shp)
    return Deterministic(name, bm.cumsum(as_expr(sigma) * z, axis=axis), dims=dims)


def RW2(name, sigma, *, shape=None, dims=None, axis=-1):
    """Second-order random walk: x_t - 2 x_{t-1} + x_{t-2} = sigma * z_t (non-centred double cumsum)."""
    shp = _walk_shape(shape, dims, f"RW2('{name}')")
    _positive_sigma(sigma, f"RW2 '{name}'")
    z = Normal(f"{name}_z", 0.0, 1.0, shape=shp)
    return Deterministic(name, bm.cumsum(bm.cumsum(as_expr(sigma) * z, axis=axis), axis=axis), dims=dims)


def AR1(name, rho, sigma, *, shape=None, dims=None):
    """Stationary AR(1) along the last axis: x_0 ~ N(0, sigma / sqrt(1 - rho^2)), x_t ~ N(rho x_{t-1}, sigma).

    Centred (the recursion runs over parameters); ``rho`` should lie in (-1, 1), e.g. a
    Uniform(-1, 1) or a transformed Beta.
    """
    shp = _walk_shape(shape, dims, f"AR1('{name}')")
    _positive_sigma(sigma, f"AR1 '{name}'")
    _fixed(rho, f"AR1 '{name}'", "rho", lambda v: np.abs(v) < 1, "must lie in (-1, 1) for a stationary AR(1)",
           "pass |rho| < 1, or a parameter such as bb.Uniform('rho', -1, 1)")
    x = Flat(name, shape=None if dims else shp, dims=dims)
    rho, sigma = as_expr(rho), as_expr(sigma)
    sd0 = sigma / bm.sqrt(1.0 - rho * rho)
    Potential(f"{name}_start", -0.5 * bm.square(x[..., 0] / sd0) - bm.log(sd0) - 0.9189385332046727)
    if shp[-1] > 1:
        Potential(f"{name}_steps", -0.5 * bm.square((x[..., 1:] - rho * x[..., :-1]) / sigma) - bm.log(sigma)
                  - 0.9189385332046727)
    return x


# --------------------------------------------------------------------------- shrinkage
def RegularizedHorseshoe(name, shape, *, tau0=1.0, slab_scale=2.0, slab_df=4.0):
    """Regularised horseshoe coefficients (Piironen & Vehtari 2017), non-centred:

    beta_j = z_j * tau * lambda~_j,  lambda~_j = sqrt(c^2 lambda_j^2 / (c^2 + tau^2 lambda_j^2)),
    z ~ N(0, 1), lambda ~ HalfCauchy(1), tau ~ HalfCauchy(tau0), c^2 ~ InvGamma(df/2, df * scale^2 / 2).
    A common choice: tau0 = p0 / (D - p0) * sigma / sqrt(N) for p0 expected non-zero coefficients.
    Returns beta (a Deterministic named ``name``).
    """
    shape = shape_argument(shape, f"RegularizedHorseshoe '{name}'")
    if not slab_scale > 0 or not slab_df > 0 or not tau0 > 0:
        raise ValueError(f"RegularizedHorseshoe '{name}': tau0, slab_scale and slab_df must be > 0")
    z = Normal(f"{name}_z", 0.0, 1.0, shape=shape)
    lam = HalfCauchy(f"{name}_lambda", 1.0, shape=shape)
    tau = HalfCauchy(f"{name}_tau", tau0)
    c2 = InverseGamma(f"{name}_c2", 0.5 * slab_df, 0.5 * slab_df * slab_scale ** 2)
    lam_t = bm.sqrt(c2 * bm.square(lam) / (c2 + bm.square(tau) * bm.square(lam)))
    return Deterministic(name, z * tau * lam_t)


def R2D2(name, shape, *, sigma=1.0, r2_mean=0.5, r2_prec=2.0, concentration=1.0):
    """R2-D2 shrinkage (Zhang et al. 2022): R^2 ~ Beta(mean * prec, (1 - mean) * prec), phi ~ Dirichlet(conc),
    beta_j = z_j * sigma * sqrt(phi_j * R^2 / (1 - R^2)) with z ~ N(0, 1). For standardised predictors the
    prior puts R^2 of the linear predictor where you say. Returns beta (a Deterministic named ``name``).
    """
    if not 0 < r2_mean < 1 or not r2_prec > 0 or not concentration > 0:
        raise ValueError(f"R2D2 '{name}': r2_mean must be in (0, 1), r2_prec and concentration > 0")
    _positive_sigma(sigma, f"R2D2 '{name}'")
    shape = shape_argument(shape, f"R2D2 '{name}'")
    D = int(np.prod(shape))
    r2 = Beta(f"{name}_r2", r2_mean * r2_prec, (1 - r2_mean) * r2_prec)
    phi = Dirichlet(f"{name}_phi", np.full(D, float(concentration)))
    z = Normal(f"{name}_z", 0.0, 1.0, shape=D)
    beta = z * as_expr(sigma) * bm.sqrt(phi * r2 / (1.0 - r2))
    return Deterministic(name, beta.reshape(shape))
