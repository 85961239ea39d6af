"""Rank-normalised split R-hat and bulk ESS (Vehtari et al. 2021), vectorised over parameters.

ArviZ computes the same quantities one scalar parameter at a time in Python: on W3's 1,804
parameters that took longer than the sampling run itself (5.5 s after a 4.1 s run). These functions
do every parameter at once with numpy and give ArviZ's values (tests/test_convergence.py compares
them on random arrays); ArviZ remains what `Result.summary()` and the InferenceData use.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import fft, special

_BLOM = 3.0 / 8.0  # fractional offset of the normal scores, as ArviZ (Blom 1958)


def _params(x):
    """(chain, draw, *shape) -> (parameters, chain, draw) and the parameter shape."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"draws must have shape (chain, draw, ...), got {x.shape}")
    shape = x.shape[2:]
    return np.moveaxis(x.reshape(x.shape[:2] + (-1,)), -1, 0), shape


def _split(x):
    """Each chain's first and last halves as two chains (the middle draw of an odd count is dropped)."""
    half = x.shape[-1] // 2
    return np.concatenate([x[..., :half], x[..., x.shape[-1] - half:]], axis=1)


def _scores(ranks, n):
    """The normal scores of ranks (1..n, ties averaged) among n values (Blom's offsets, as ArviZ)."""
    return special.ndtri((ranks - _BLOM) / (n - 2 * _BLOM + 1))


def _scores_in_order(order, s):
    """Normal scores of each row's pooled ranks, from the order that sorts each row and the sorted rows s.
    A value's score depends only on its position in sorted order unless it ties with another, so one
    table of n scores is laid out in sorted order and scattered through the order, and only tied values
    (given the mean of their positions, as scipy's rankdata(method='average')) get scores of their own."""
    n = s.shape[1]
    z = np.empty(s.shape)
    np.put_along_axis(z, order, np.broadcast_to(_scores(np.arange(n) + 1.0, n), s.shape), axis=1)
    pairs = np.flatnonzero(s[:, 1:] == s[:, :-1])  # (row, j): sorted positions j and j + 1 are equal
    if pairs.size:
        row, j = np.divmod(pairs, n - 1)
        new = np.ones(j.size, dtype=bool)
        # a run of equal pairs in one row is one group of tied values
        new[1:] = (j[1:] != j[:-1] + 1) | (row[1:] != row[:-1])
        group = np.cumsum(new) - 1
        first = j[new]
        last = j[np.append(np.flatnonzero(new)[1:] - 1, j.size - 1)] + 1
        score = _scores((first + last) / 2.0 + 1.0, n)[group]
        z[row, order[row, j]] = score
        z[row, order[row, j + 1]] = score
    return z


def _z_scale(x):
    """Normal scores of each parameter's pooled ranks (ties averaged)."""
    flat = x.reshape(x.shape[0], -1)
    order = np.argsort(flat, axis=1)
    return _scores_in_order(order, np.take_along_axis(flat, order, axis=1)).reshape(x.shape)


def _bulk_and_tail(x):
    """Normal scores of the pooled ranks of x (parameters, chain, draw) and of its values folded about
    each parameter's median, |x - median|, from one sort: the median is read off the sorted row, and in
    sorted order the folded values are two ascending runs (the lower half read backwards, the upper
    half), which a stable sort (timsort) merges in linear time instead of sorting afresh."""
    flat = x.reshape(x.shape[0], -1)
    n = flat.shape[1]
    order = np.argsort(flat, axis=1)
    s = np.take_along_axis(flat, order, axis=1)
    med = 0.5 * (s[:, (n - 1) // 2] + s[:, n // 2])
    runs = np.concatenate([np.arange(n // 2)[::-1], np.arange(n // 2, n)])
    folded = np.abs(s[:, runs] - med[:, None])
    merged = np.argsort(folded, axis=1, kind="stable")
    tail = _scores_in_order(np.take_along_axis(order[:, runs], merged, axis=1),
                            np.take_along_axis(folded, merged, axis=1))
    return _scores_in_order(order, s).reshape(x.shape), tail.reshape(x.shape)


def _rhat(z):
    n = z.shape[-1]
    between = n * np.var(np.mean(z, axis=-1), axis=-1, ddof=1)
    within = np.mean(np.var(z, axis=-1, ddof=1), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def _autocov(z):
    """Autocovariance at every lag along the last axis (biased, divided by n), through one FFT."""
    n = z.shape[-1]
    c = z - z.mean(axis=-1, keepdims=True)
    m = fft.next_fast_len(2 * n, real=True)
    m += m % 2  # even, so that the spectrum's last bin is the Nyquist frequency
    f = np.fft.rfft(c, n=m, axis=-1)
    # the power spectrum is real and even: its inverse DFT is a type-I DCT (3-6x faster than irfft, which
    # works on complex input), lags 0 .. m/2 of it
    return fft.dct(f.real ** 2 + f.imag ** 2, type=1, axis=-1)[..., :n] / (m * n)


def _ess(z):
    """ESS of (parameters, chain, draw) arrays: Geyer's initial positive and monotone sequences."""
    p, chains, n = z.shape
    size = chains * n
    acov = _autocov(z)
    mean_var = acov[..., 0].mean(axis=1) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if chains > 1:
        var_plus = var_plus + np.var(z.mean(axis=-1), axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]  # lag 0 .. n-1
    rho[:, 0] = 1.0
    # pair k holds lags (2k, 2k+1); pair k >= 1 is examined while 2k - 1 < n - 3 and pair k - 1 summed > 0
    k_bound = max(0, (n - 3) // 2)
    pairs = np.zeros((p, k_bound + 1, 2))
    n_lags = min(n, 2 * (k_bound + 1))
    pairs.reshape(p, -1)[:, :n_lags] = rho[:, :n_lags]
    sums = pairs.sum(axis=2)
    # last examined pair: the first pair whose sum is not positive, or the bound
    stop = ~(sums[:, :k_bound] > 0)
    last = np.where(stop.any(axis=1), stop.argmax(axis=1), k_bound) if k_bound else np.zeros(p, dtype=int)
    rows = np.arange(p)
    even_last = pairs[rows, last, 0]
    sum_last = sums[rows, last]
    # pairs before the last are summed twice after the monotone correction (a running minimum)
    running = np.minimum.accumulate(sums, axis=1)
    k_index = np.arange(k_bound + 1)[None, :]
    twice = np.where(k_index < last[:, None], running, 0.0).sum(axis=1)
    once = np.where((sum_last >= 0) | (even_last > 0), even_last, 0.0)
    once = np.where(last == 0, 1.0, once)  # with no pair examined the once-term is lag 0 itself
    tau = -1.0 + 2.0 * twice + once
    tau = np.maximum(tau, 1.0 / np.log10(size))
    ess = size / tau
    ess[np.isnan(rho[:, 1])] = np.nan
    span = z.reshape(p, -1)
    ess[(span.max(axis=1) - span.min(axis=1)) < np.finfo(float).resolution] = size
    return ess


# draws per block of parameters: each working array (ranks, FFTs) 2 MB, so a block's dozen of them stay in
# cache and are reused by the allocator instead of mapped afresh: 1.5x faster than blocks of 4M draws
# (64 x 400 draws x 2,000 parameters: 3.9 s -> 2.6 s, the same values) and ~50 MB of them, not ~700 MB
_BLOCK_VALUES = 1 << 18


def _blocks(x):
    """Slices of the parameter axis of x (parameters, chain, draw), each of about _BLOCK_VALUES draws.
    Every parameter's statistics depend on its own draws alone, so blocks give the same values as one
    pass; 256 chains of 1,000 draws of 10,000 parameters would otherwise need tens of GB at once."""
    per = max(1, _BLOCK_VALUES // max(1, x.shape[1] * x.shape[2]))
    return [slice(i, min(i + per, x.shape[0])) for i in range(0, x.shape[0], per)]


def _valid(draws, min_chains):
    x, shape = _params(draws)
    ok = ~np.isnan(x).any(axis=(1, 2)) if x.shape[1] >= min_chains and x.shape[2] >= 4 else np.zeros(len(x), bool)
    return x, shape, ok


def _per_parameter(draws, min_chains, fn, outputs):
    """``outputs`` arrays of one value per parameter: fn((parameters, chain, draw) block) gives them for a
    block of usable parameters (NaN elsewhere). Blocks run on threads (numpy releases the GIL in its
    sorts and FFTs); each block's values depend on its own draws only, so the threads change nothing."""
    x, shape, ok = _valid(draws, min_chains)
    res = [np.full(x.shape[0], np.nan) for _ in range(outputs)]
    if ok.any():
        xs = x if ok.all() else x[ok]  # no copy of every draw when all are usable
        vals = [np.full(len(xs), np.nan) for _ in range(outputs)]

        def work(b):
            for v, got in zip(vals, fn(xs[b])):
                v[b] = got

        blocks = _blocks(xs)
        workers = min(len(blocks), os.cpu_count() or 1, 8)
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(work, blocks))
        else:
            for b in blocks:
                work(b)
        for r, v in zip(res, vals):
            r[ok] = v
    return [r.reshape(shape) for r in res]


def _rhat_from(z_bulk, z_tail):
    bulk, tail = _rhat(z_bulk), _rhat(z_tail)
    return np.where(tail > bulk, tail, bulk)


def rhat(draws):
    """Rank-normalised split R-hat of each parameter: the larger of the bulk and the folded (tail) value.

    Args:
        draws: array (chain, draw, *shape); at least 2 chains and 4 draws, else NaN.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> x = np.random.default_rng(0).normal(size=(4, 500, 3))
        >>> bool(np.all(bb.convergence.rhat(x) < 1.01))
        True
    """
    def block(x):
        return (_rhat_from(*_bulk_and_tail(_split(x))),)
    return _per_parameter(draws, 2, block, 1)[0]


def ess_bulk(draws):
    """Bulk effective sample size of each parameter (rank-normalised split chains).

    Args:
        draws: array (chain, draw, *shape); at least 4 draws, else NaN.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> x = np.random.default_rng(0).normal(size=(4, 500))
        >>> 1500 < float(bb.convergence.ess_bulk(x)) < 2500
        True
    """
    return _per_parameter(draws, 1, lambda x: (_ess(_z_scale(_split(x))),), 1)[0]


def rhat_and_ess_bulk(draws):
    """Both of the above, sharing the ranking of the split chains (what the post-sampling check uses).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> r, e = bb.convergence.rhat_and_ess_bulk(np.random.default_rng(0).normal(size=(4, 500)))
        >>> float(r) < 1.01 and float(e) > 1500
        True
    """
    def block(x):
        if x.shape[1] < 2:  # one chain: no R-hat, so no folded ranks
            return np.full(len(x), np.nan), _ess(_z_scale(_split(x)))
        z, z_tail = _bulk_and_tail(_split(x))
        return _rhat_from(z, z_tail), _ess(z)
    return tuple(_per_parameter(draws, 1, block, 2))


def nested_rhat(draws, superchains):
    """Nested R-hat (Margossian, Hoffman, Sountsov, Riou-Durand, Vehtari & Gelman 2024) for many short
    chains: chains are grouped into ``superchains`` equal groups (consecutive chains; chains in a group
    should share their start) and the between-group variance of the group means is compared with the
    variance within groups, so it stays informative when each chain has only a few draws.

    ``draws``: (chain, draw, ...). Returns one value per parameter (shape ...); values near 1 say the
    groups agree (the paper's threshold is about 1.01 with enough chains per group).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(64, 20))
        >>> bool(nested_rhat(x, 4) < 1.05)
        True
    """
    x, shape = _params(draws)
    P, C, N = x.shape
    if isinstance(superchains, bool) or not isinstance(superchains, (int, np.integer)) or superchains < 2:
        raise ValueError(f"nested_rhat: superchains must be an integer >= 2, got {superchains!r}")
    if C % superchains:
        raise ValueError(f"nested_rhat: {C} chains do not split into {superchains} equal superchains")
    M = C // superchains
    g = x.reshape(P, superchains, M, N)
    chain_means = g.mean(axis=3)                      # (P, K, M)
    group_means = chain_means.mean(axis=2)            # (P, K)
    between = group_means.var(axis=1, ddof=1)         # between superchains
    within_chains = g.var(axis=3, ddof=1).mean(axis=2) if N > 1 else np.zeros((P, superchains))
    between_chains = chain_means.var(axis=2, ddof=1) if M > 1 else np.zeros((P, superchains))
    within = (within_chains + between_chains).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt(1.0 + between / within)
    return out.reshape(shape)
