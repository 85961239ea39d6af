"""Gaussian-process trends by the Hilbert-space approximation (Solin & Särkkä 2020; Riutort-Mayol et al.
2023), as PyMC's HSGP and brms's gp(k=, c=) build them: smooth poll-average or turnout trends over time.

f(x) = Phi(x) @ (sqrt(S(sqrt(lambda))) * z), z ~ N(0, 1): Phi holds m Laplacian eigenfunctions on
[-L, L] (L = c times the half-range of the centred inputs), lambda their eigenvalues and S the
kernel's spectral density at the lengthscale and amplitude parameters. Phi is data, so the trend is
one dense product over m coefficients, and repeated inputs (many polls a day) compile to a product
over the distinct days and a gather.
"""
from __future__ import annotations

import numpy as np

from . import math as bm
from .distributions import Normal
from .expr import as_expr, constant_value

KERNELS = ("expquad", "matern32", "matern52")


def _distances(x, where):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"{where}: x must be finite inputs of shape (n,) or (n, dims), got shape {x.shape}")
    return np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))


def cov_matrix(x, *, ls, eta, cov="expquad", jitter=1e-9):
    """The exact GP covariance matrix (n, n) over inputs x (data) as an expression of ``ls`` and ``eta``.

    ``cov``: 'expquad' (Stan's gp_exp_quad_cov), 'matern32', 'matern52'. ``jitter`` is added to the
    diagonal so that ``bb.math.cholesky`` of it stays defined. For many inputs use ``HSGP``.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     ls = bb.LogNormal("ls", 0, 1)
        ...     K = bb.gp.cov_matrix(np.linspace(0, 1, 4), ls=ls, eta=1.0)
        ...     L = bb.math.cholesky(K)
        >>> L.shape
        (4, 4)
    """
    if cov not in KERNELS:
        raise ValueError(f"cov_matrix: cov='{cov}' is not known; choose one of {list(KERNELS)}")
    d = _distances(x, "cov_matrix")
    ls, eta = as_expr(ls), as_expr(eta)
    if cov == "expquad":
        k = bm.exp(-0.5 * (d * d) / (ls * ls))
    else:
        r = (np.sqrt(3.0) if cov == "matern32" else np.sqrt(5.0)) * d / ls
        poly = 1 + r if cov == "matern32" else 1 + r + r * r / 3.0
        k = poly * bm.exp(-1.0 * r)
    return (eta * eta) * k + jitter * np.eye(d.shape[0])


def hsgp_basis(x, m, c=1.5, center=None, half_range=None):
    """(Phi (n, m), sqrt_eigenvalues (m,)) of the approximation on inputs x; the same numbers HSGP uses.

    ``center`` and ``half_range`` default to those of x (pass the training values to evaluate the same
    basis at new inputs).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> phi, w = bb.gp.hsgp_basis(np.linspace(0, 10, 5), m=3)
        >>> phi.shape, w.shape
        ((5, 3), (3,))
    """
    x = np.asarray(x, dtype=np.float64)
    center = float(np.mean(x)) if center is None else float(center)
    xc = x - center
    half_range = float(np.max(np.abs(xc))) if half_range is None else float(half_range)
    L = c * (half_range if half_range > 0 else 1.0)
    j = np.arange(1, m + 1)
    sqrt_eig = np.pi * j / (2 * L)
    phi = np.sin(sqrt_eig[None, :] * (xc[:, None] + L)) / np.sqrt(L)
    return phi, sqrt_eig


def _sqrt_psd(cov, omega, ls, eta):
    """sqrt of the 1-d spectral density at frequencies omega (data) for lengthscale ls and amplitude eta."""
    w2 = omega ** 2
    if cov == "expquad":        # S = eta^2 sqrt(2 pi) ls exp(-ls^2 w^2 / 2)
        return eta * bm.sqrt(np.sqrt(2 * np.pi) * ls) * bm.exp(-0.25 * (ls * ls) * w2)
    nu = 1.5 if cov == "matern32" else 2.5
    const = 4.0 if cov == "matern32" else 16.0 / 3.0   # S = eta^2 const a^(2 nu) / (a^2 + w^2)^(nu + 1/2)
    a = np.sqrt(2 * nu) / ls
    return eta * np.sqrt(const) * a ** nu / (a * a + w2) ** ((nu + 0.5) / 2)


def HSGP(name, x, *, ls, eta, m=30, c=1.5, cov="expquad"):
    """A Gaussian-process function of one input, Hilbert-space approximated; returns f (n,) as an expression.

    Registers the m standard-normal coefficients ``{name}_z``. ``ls`` (lengthscale, in x's units) and
    ``eta`` (amplitude) are positive parameters or numbers. ``m`` basis functions and the boundary
    factor ``c`` (> 1) set the accuracy: the approximation is good for lengthscales down to about
    ``2 c half_range / m`` (Riutort-Mayol et al.'s rule of thumb).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> day = np.repeat(np.arange(60.0), 3)                     # 3 polls a day for 60 days
        >>> with bb.Model() as m:
        ...     ls = bb.InverseGamma("ls", 5, 50)
        ...     eta = bb.HalfNormal("eta", 0.5)
        ...     trend = bb.HSGP("trend", day, ls=ls, eta=eta, m=25)
        >>> trend.shape
        (180,)
    """
    where = f"HSGP '{name}'"
    if cov not in KERNELS:
        raise ValueError(f"{where}: cov='{cov}' is not known; choose one of {list(KERNELS)}")
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"{where}: m (the number of basis functions) must be a positive integer, got {m!r}")
    if not (isinstance(c, (int, float)) and c > 1):
        raise ValueError(f"{where}: c (the boundary factor) must be a number > 1, got {c!r}; 1.5 is the usual choice")
    xv = np.asarray(x, dtype=np.float64)
    if xv.ndim != 1 or xv.size == 0 or not np.all(np.isfinite(xv)):
        raise ValueError(f"{where}: x must be a non-empty 1-d array of finite numbers, got shape {xv.shape}")
    for pname, p in (("ls", ls), ("eta", eta)):
        v = constant_value(as_expr(p))
        if v is not None and (np.size(v) != 1 or not float(np.ravel(v)[0]) > 0):
            raise ValueError(f"{where}: {pname} must be a positive number or parameter, got {v}")
        if as_expr(p).size != 1:
            raise ValueError(f"{where}: {pname} must be a scalar, got shape {as_expr(p).shape}")
    phi, sqrt_eig = hsgp_basis(xv, int(m), float(c))
    z = Normal(f"{name}_z", 0, 1, shape=int(m))
    return phi @ (_sqrt_psd(cov, sqrt_eig, as_expr(ls), as_expr(eta)) * z)
