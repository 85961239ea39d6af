"""Prior and posterior predictive draws and pointwise log-likelihoods, from the model's expression graph
evaluated in numpy over all draws at once (compile.evaluate)."""
from __future__ import annotations

import numpy as np

from ..compile.evaluate import Evaluator, align
from ..compile.lower import evaluate_in_core
from ..model import Model
from .result import Result


def _posterior_evaluator(result, what):
    """(model, chains, draws, evaluator over every posterior draw) for a Result that has its model."""
    if isinstance(result, Model):
        raise TypeError(f"{what}: pass the result of bb.sample(model), not the model itself (res = bb.sample(model), "
                        "then pass res); for draws before seeing data use bb.sample_prior_predictive(model)")
    if not isinstance(result, Result):
        hint = " (for a bb.glm fit pass fit.result)" if hasattr(result, "glm") else ""
        raise TypeError(f"{what}: pass a bb.Result from bb.sample, got {type(result).__name__}{hint}")
    model = result.model
    if model is None:
        raise ValueError(f"{what} needs the model: this result has none (sampled from a log density, or loaded "
                         "from disk); pass a result returned by bb.sample(model)")
    C, D = result.chains, result.draws
    env = {rv: result.posterior[rv.name].reshape((C * D,) + rv.shape) for rv in model.free_rvs}
    return model, C, D, Evaluator(env, C * D, evaluate_in_core)


def _draw(dist, ev, rng, shape, batch, where):
    params = {name: ev(p) for name, p in dist.params.items()}
    size = (batch,) + tuple(shape)
    if dist.event_ndim == 0:
        ev_nd = getattr(dist, "param_event_ndim", {})   # e.g. cutpoints: their last axis is not a batch axis
        params = {k: np.broadcast_to(align(v, batch, shape, ev_nd.get(k, 0)),
                                     size + (v.shape[v.ndim - ev_nd[k]:] if ev_nd.get(k) else ()))
                  for k, v in params.items()}
    try:
        return dist.random(rng, params, size)
    except NotImplementedError:
        raise NotImplementedError(f"{where}: {type(dist).__name__} has no random draws yet, so predictive "
                                  "sampling cannot go through it") from None


def sample_prior_predictive(model, draws=500, seed=None):
    """Draws of every parameter, Deterministic and observed variable from the prior.

    Returns {"prior": {name: (1, draws, *shape)}, "prior_predictive": {name: (1, draws, *shape)}}.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 1)
        ...     _ = bb.Normal("y", mu, 1, observed=np.zeros(3))
        >>> pp = bb.sample_prior_predictive(m, draws=100, seed=1)
        >>> pp["prior_predictive"]["y"].shape
        (1, 100, 3)
    """
    if not isinstance(model, Model):
        raise TypeError(f"sample_prior_predictive takes a bb.Model, got {type(model).__name__}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    rng = np.random.default_rng(seed)
    env = {}
    ev = Evaluator(env, draws, evaluate_in_core)
    for rv in model.free_rvs:  # registration order is a valid topological order
        env[rv] = np.asarray(_draw(rv.dist, ev, rng, rv.shape, draws, f"prior of '{rv.name}'"), dtype=np.float64)
    prior = {rv.name: env[rv] for rv in model.free_rvs}
    prior.update({name: np.array(ev(expr)) for name, expr, _ in model.deterministics})
    pred = {rv.name: _draw(rv.dist, ev, rng, rv.shape, draws, f"'{rv.name}'") for rv in model.observed_rvs}
    return {"prior": {k: v[None] for k, v in prior.items()}, "prior_predictive": {k: v[None] for k, v in pred.items()}}


def sample_posterior_predictive(result, seed=None):
    """Draws of each observed variable given every posterior draw: {name: (chain, draw, *shape)}.

    Also stored on the result, so ``result.to_inference_data()`` gains a posterior_predictive group.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 1)
        ...     _ = bb.Normal("y", mu, 1, observed=np.zeros(3))
        >>> res = bb.sample(m, draws=100, tune=100, chains=2, seed=1, progressbar=False)
        >>> bb.sample_posterior_predictive(res, seed=2)["y"].shape
        (2, 100, 3)
    """
    model, C, D, ev = _posterior_evaluator(result, "posterior predictive draws")
    rng = np.random.default_rng(seed)
    out = {rv.name: np.asarray(_draw(rv.dist, ev, rng, rv.shape, C * D, f"'{rv.name}'")).reshape((C, D) + rv.shape)
           for rv in model.observed_rvs}
    result.posterior_predictive = out
    return out


def compute_log_likelihood(result, var_names=None):
    """Pointwise log-likelihood {name: (chain, draw, *shape)} of observed variables, for LOO and WAIC.

    Stored on the result (``to_inference_data()`` then has a log_likelihood group). It holds
    chains x draws x observations numbers, so it is computed only on request.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> with bb.Model() as m:
        ...     mu = bb.Normal("mu", 0, 1)
        ...     _ = bb.Normal("y", mu, 1, observed=np.zeros(3))
        >>> res = bb.sample(m, draws=100, tune=100, chains=2, seed=1, progressbar=False)
        >>> bb.compute_log_likelihood(res)["y"].shape
        (2, 100, 3)
    """
    model, C, D, ev = _posterior_evaluator(result, "the log-likelihood")
    out = {}
    for rv in model.observed_rvs:
        if var_names is not None and rv.name not in var_names:
            continue
        shape = rv.shape
        ev_nd = getattr(rv.dist, "param_event_ndim", {})
        params = {k: align(ev(p), C * D, shape, ev_nd.get(k, 0)) for k, p in rv.dist.params.items()}
        out[rv.name] = np.asarray(rv.dist.logp_numpy(rv.value, params)).reshape((C, D) + shape)
    result.log_likelihood = out
    return out
