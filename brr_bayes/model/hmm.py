"""Hidden Markov models with the hidden states marginalised out (the forward algorithm in log space).

Poll and turnout models use them for regimes (a campaign "in play" or not, a pollster's house state).
``bb.HMM`` adds log p(observations) = log sum over state paths, alpha_t = logsumexp_i(alpha_{t-1}[i]
+ log A[i, j]) + log e_t[j], as one op over all sequences.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .expr import Const, Op, as_expr, constant_value
from .core import Model


def hmm_forward(log_init, log_trans, log_emission):
    """log p(observations) per sequence as an expression (S,), from log_init (K,), log_trans (K, K) (row: from,
    column: to; rows sum to 1 on the probability scale) and log_emission (S, T, K) or (T, K).

    One C++ op (csrc/ad/ops_hmm.cpp): the forward algorithm, and the gradient from the forward-backward
    posteriors, O(S T K^2) each way."""
    log_init, log_trans, e = as_expr(log_init), as_expr(log_trans), as_expr(log_emission)
    if e.ndim == 2:
        e = e.reshape((1,) + e.shape)
    S = e.shape[0]
    args = [log_init, log_trans, e]
    values = [constant_value(a) for a in args]
    if all(v is not None for v in values):
        return Const(numpy_forward(*(np.asarray(v, dtype=np.float64)[None] for v in values)))
    return Op("hmm", args, (S,))


def numpy_forward(log_init, log_trans, log_emission):
    """The forward algorithm over a batch axis first: (B, K), (B, K, K), (B, S, T, K) -> (B, S)."""
    alpha = log_init[:, None, :] + log_emission[:, :, 0, :]                     # (B, S, K)
    for t in range(1, log_emission.shape[2]):
        alpha = special.logsumexp(alpha[..., :, None] + log_trans[:, None, :, :], axis=-2) + log_emission[:, :, t, :]
    return special.logsumexp(alpha, axis=-1)


def HMM(name, log_init, log_trans, log_emission):
    """Marginal likelihood of observed sequences under a K-state hidden Markov model; returns log p per sequence.

    ``log_emission[s, t, k]`` is log p(observation t of sequence s | state k), built from any
    expressions (e.g. ``bb.Normal.logp(y[..., None], mu, sigma)`` broadcast over the K states);
    ``log_init`` (K,) and ``log_trans`` (K, K) are log probabilities (for parameters, ``bb.math.log`` of
    ``bb.Dirichlet`` draws, one row of the transition matrix each).

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> y = np.array([0.1, -0.2, 3.1, 2.9, 3.0, 0.0])
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 5, shape=2, transform="ordered")
        ...     stay = bb.Beta("stay", 8, 2)
        ...     trans = bb.math.stack([bb.math.stack([stay, 1 - stay]), bb.math.stack([1 - stay, stay])])
        ...     lp = bb.HMM("y", np.log([0.5, 0.5]), bb.math.log(trans), bb.Normal.logp(y[:, None], mu, 1.0))
        >>> lp.shape
        (1,)
    """
    model = Model.get_context(f"HMM('{name}')")
    where = f"HMM '{name}'"
    e = as_expr(log_emission)
    if e.ndim not in (2, 3):
        raise ValueError(f"{where}: log_emission must have shape (T, K) or (sequences, T, K), got {e.shape}")
    K = e.shape[-1]
    li, lt = as_expr(log_init), as_expr(log_trans)
    if li.shape != (K,) or lt.shape != (K, K):
        raise ValueError(f"{where}: with {K} states log_init must have shape ({K},) and log_trans ({K}, {K}), got "
                         f"{li.shape} and {lt.shape}")
    for what, v, axis in (("log_init", constant_value(li), None), ("log_trans", constant_value(lt), 1)):
        if v is not None and not np.allclose(np.exp(v).sum(axis=axis), 1.0, atol=1e-8):
            raise ValueError(f"{where}: {what} must be log probabilities that sum to 1"
                             f"{' along each row' if axis else ''}; got sums {np.exp(v).sum(axis=axis)}")
    lp = hmm_forward(li, lt, e)
    model.add_potential(name, lp.sum())
    return lp
