"""Prior and posterior predictive draws: the expression graph evaluated in numpy over a batch of draws.

Every value carries a leading batch axis (one row per draw) except constants, so one pass over the
graph serves all draws at once.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from . import ops
from .expr import Const, Op, postorder
from .hmm import numpy_forward
from .linalg import numpy_cholesky, numpy_trisolve
from .model import FreeRV
from .recurrence import numpy_recurrence


class _Evaluator:
    def __init__(self, env, batch):
        self.env = env          # FreeRV -> array (batch, *shape)
        self.batch = batch
        self.memo = {}
        self._keep = []  # nodes whose id() keys the memo must stay alive

    def __call__(self, e):
        """Value of e with shape (batch, *e.shape); arguments first, iteratively (any depth)."""
        for node in postorder([e], done=lambda n: id(n) in self.memo):
            v = self._eval(node)
            full = (self.batch,) + node.shape
            self.memo[id(node)] = np.broadcast_to(v, full) if v.shape != full else v
            self._keep.append(node)
        return self.memo[id(e)]

    def _eval(self, e):
        B = self.batch
        if isinstance(e, Const):
            return np.asarray(e.value, dtype=np.float64)
        if isinstance(e, FreeRV):
            if e not in self.env:
                raise KeyError(f"no draws for parameter '{e.name}'")
            return self.env[e]
        if not isinstance(e, Op):
            raise TypeError(f"cannot evaluate {e!r}")
        k, a = e.kind, e.attrs
        args = [self.memo[id(x)] for x in e.args]
        flat = [v.reshape(B, -1) for v in args]
        if k == "unary":
            return ops.numpy_unary(a["code"], args[0])
        if k == "binary":
            x, y = (v if v[0].size > 1 or not e.shape else v.reshape((B,) + (1,) * len(e.shape)) for v in args)
            return ops.numpy_binary(a["code"], x, y)
        if k == "reshape":
            return args[0].reshape((B,) + e.shape)
        if k == "gather":
            return flat[0][:, a["index"]].reshape((B,) + e.shape)
        if k == "scatter":
            out = np.zeros((B, a["out_size"]))
            np.add.at(out, (slice(None), a["index"]), flat[0])
            return out.reshape((B,) + e.shape)
        if k == "sum":
            return flat[0].sum(axis=1)
        if k == "axis":
            o, n, i = a["layout"]
            v = flat[0].reshape(B, o, n, i)
            if a["code"] == ops.CUMSUM:
                r = np.cumsum(v, axis=2)
            elif a["code"] == ops.LOGSUMEXP:
                r = special.logsumexp(v, axis=2)
            else:
                r = special.softmax(v, axis=2)
            return r.reshape((B,) + e.shape)
        if k == "concat":
            return np.concatenate(flat, axis=1).reshape((B,) + e.shape)
        if k == "matmul":
            X = a["matrix"]
            b = args[0]
            r = np.einsum("nk,bk...->bn...", X, b)
            return r.reshape((B,) + e.shape)
        if k == "csr":
            return np.asarray((a["matrix"] @ flat[0].T).T).reshape((B,) + e.shape)
        if k in ("scan", "ode"):  # a traced body: run through the core's own kernels
            from .compile.lower import evaluate_in_core
            return evaluate_in_core(e, [v.reshape((B,) + x.shape) for v, x in zip(args, e.args)])
        if k in _BATCHED:   # the op's numpy twin over the draws: arguments (B, *their shapes)
            return _BATCHED[k](*(v.reshape((B,) + x.shape) for v, x in zip(args, e.args))).reshape((B,) + e.shape)
        if k == "lpdf":    # a distribution's log density at a value: its own numpy version, params evaluated here
            dist = a["dist"]
            shape = (B,) + e.shape
            params = {n: np.broadcast_to(_align(self(p), B, e.shape), shape) for n, p in dist.params.items()}
            return np.broadcast_to(dist.logp_numpy(args[0], params), shape)
        raise TypeError(f"cannot evaluate expression kind '{k}'")


# expression kinds whose numpy version lives beside the Python that builds them
_BATCHED = {"recurrence": numpy_recurrence, "hmm": numpy_forward, "cholesky": numpy_cholesky,
            "trisolve": numpy_trisolve}


def evaluate_at(exprs, values):
    """Numpy values of expressions at one point ``values`` ({free variable: constrained value})."""
    ev = _Evaluator({rv: np.asarray(v, dtype=np.float64)[None] for rv, v in values.items()}, 1)
    return [ev(e)[0] for e in exprs]


def _align(v, batch, shape, event=0):
    """A batched parameter (batch, *p_shape, *event axes) reshaped to broadcast against (batch, *shape, *event)."""
    return v.reshape((batch,) + (1,) * (len(shape) - (v.ndim - 1 - event)) + v.shape[1:])


def _posterior_evaluator(result, what):
    """(model, chains, draws, evaluator over every posterior draw) for a Result that has its model."""
    from .model import Model
    from .result import Result
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
    return model, C, D, _Evaluator(env, C * D)


def _draw(dist, ev, rng, shape, batch, where):
    params = {name: ev(p) for name, p in dist.params.items()}
    size = (batch,) + tuple(shape)
    if dist.event_ndim == 0:
        ev_nd = getattr(dist, "param_event_ndim", {})   # e.g. cutpoints: their last axis is not a batch axis
        params = {k: np.broadcast_to(_align(v, batch, shape, ev_nd.get(k, 0)),
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
    from .model import Model
    if not isinstance(model, Model):
        raise TypeError(f"sample_prior_predictive takes a bb.Model, got {type(model).__name__}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    rng = np.random.default_rng(seed)
    env = {}
    ev = _Evaluator(env, draws)
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
        params = {k: _align(ev(p), C * D, shape, ev_nd.get(k, 0)) for k, p in rv.dist.params.items()}
        out[rv.name] = np.asarray(rv.dist.logp_numpy(rv.value, params)).reshape((C, D) + shape)
    result.log_likelihood = out
    return out
