"""Result of bb.sample: draws by variable with dims/coords, sampler statistics, and ArviZ output."""
from __future__ import annotations

import json
import os
import platform
import warnings

import numpy as np

from .. import _backend
from .._version import __version__
from . import checkpoint_file, verified_file
from . import divergences as _divergences
from .convergence import nested_rhat
from .diagnostics import warn_after_sampling
from .verified_file import ResultFileError  # noqa: F401  (bb.ResultFileError)


def stat_names():
    """The per-transition statistics a run records (the C++ trace's one list: _core.stat_names()), without the
    warm-up flag, which splits them."""
    return tuple(k for k in _backend.core().stat_names() if k != "warmup")


# statistics padded with 0 (False, no divergence) past a short chain's last draw, not NaN
_ZERO_PADDED = ("diverging", "divergence_reason")


def _stack_chains(rows, pad_bool=False):
    """Per-chain arrays of (possibly) different lengths as one (chain, longest, ...) array: past a chain's
    last row False where ``pad_bool`` (flags), NaN otherwise."""
    n = max(len(r) for r in rows)
    out = []
    for r in rows:
        if len(r) < n:
            fill_shape = (n - len(r),) + r.shape[1:]
            r = np.concatenate([r, np.zeros(fill_shape, dtype=r.dtype)]) if pad_bool else \
                np.concatenate([r.astype(np.float64), np.full(fill_shape, np.nan)])
        out.append(r)
    return np.stack(out)


class Result:
    """Posterior draws and everything needed to check and reuse them.

    Attributes:
        posterior: {name: array (chain, draw, *shape)} for free variables and Deterministics.
        sample_stats: {stat: array (chain, draw)} with ArviZ's names.
        unconstrained: array (chain, draw, dim) of the flat unconstrained draws.
        partial: True when sampling was interrupted before every draw was made.
        chain_draws: kept draws of each chain. After an interruption chains can differ: every chain's
            draws are kept, and the arrays are padded with NaN past a chain's last draw.
    """

    def __init__(self, posterior, sample_stats, unconstrained, *, model=None, config=None, seconds=0.0,
                 partial=False, warmup_posterior=None, warmup_sample_stats=None, sampler_states=None,
                 grad_evals=None, chain_draws=None):
        self.posterior = posterior
        self.sample_stats = _divergences.with_reasons(sample_stats)
        self.unconstrained = unconstrained
        self.model = model
        self.config = dict(config or {})
        self.seed = self.config.get("seed")
        self.seconds = seconds
        self.partial = partial
        self.warmup_posterior = warmup_posterior
        self.warmup_sample_stats = _divergences.with_reasons(warmup_sample_stats) if warmup_sample_stats else None
        self.sampler_states = sampler_states or []
        self.grad_evals = grad_evals
        self.chain_draws = list(chain_draws) if chain_draws is not None else [unconstrained.shape[1]] * \
            unconstrained.shape[0]
        self.posterior_predictive = None
        self.log_likelihood = None
        self.source = None        # the absolute path it was loaded from (Result.load), else None
        self.versions = {"brr_bayes": __version__, "numpy": np.__version__, "python": platform.python_version()}

    @classmethod
    def from_run(cls, run, config, *, model, seconds, partial, previous_states=(), report=True):
        n_chains = config["chains"]
        # the draws are handed over (a C++ run's, without a copy) and dropped chain by chain once copied:
        # the largest arrays of a many-chain run are not held twice (shallow dict copies: a record keeps its own)
        traces = [dict(run.trace(c, take=True)) for c in range(n_chains)]
        states = [run.state(c) for c in range(n_chains)]
        # a chain that did not get to run again keeps the state it was resumed from
        states = [s if s is not None or c >= len(previous_states) else previous_states[c] for c, s in enumerate(states)]
        warm = [t["warmup"].astype(bool) for t in traces]
        kept = [int((~w).sum()) for w in warm]
        n_keep, n_warm = max(kept), max(int(w.sum()) for w in warm)

        def pick(key, mask_warm, n):
            rows = [t[key][w == mask_warm][:n] for t, w in zip(traces, warm)]
            if all(len(r) == n for r in rows):
                return np.stack(rows)
            if key in _ZERO_PADDED:  # ragged (interrupted) chains: pad past each chain's last draw
                return np.stack([np.concatenate([r, np.zeros(n - len(r), dtype=r.dtype)]) for r in rows])
            return np.stack([np.concatenate([r.astype(np.float64), np.full((n - len(r),) + r.shape[1:], np.nan)])
                             for r in rows])

        def pick_draws(n_kept, n_warmup):
            """(kept draws, warm-up draws or None): (chains, n, dim), NaN past a short chain's last draw."""
            dim = traces[0]["draws"].shape[1] if n_chains else 0
            # empty, not NaN-filled: a page is first written as its chain's draws are copied in
            out = np.empty((n_chains, n_kept, dim))
            wu = np.empty((n_chains, n_warmup, dim)) if config.get("keep_warmup") else None

            def put(dst, c, rows, n):
                k = min(len(rows), n)
                dst[c, :k] = rows[:k]
                dst[c, k:] = np.nan

            for c, (t, w) in enumerate(zip(traces, warm)):
                d = t.pop("draws")
                put(out, c, d if not w.any() else d[~w], n_kept)
                if wu is not None:
                    put(wu, c, d[w], n_warmup)
                del d
            return out, wu

        unconstrained, wu = pick_draws(n_keep, n_warm)
        stats = {k: pick(k, False, n_keep) for k in stat_names()}
        stats["diverging"] = stats["diverging"].astype(bool)
        posterior = cls._constrain(model, unconstrained)
        warm_post = warm_stats = None
        if wu is not None:
            warm_post = cls._constrain(model, wu)
            warm_stats = {k: pick(k, True, n_warm) for k in stat_names()}
        res = cls(posterior, stats, unconstrained, model=model, config=config, seconds=seconds, partial=partial,
                  warmup_posterior=warm_post, warmup_sample_stats=warm_stats, sampler_states=states,
                  grad_evals=[int(t["grad_evals"]) for t in traces], chain_draws=kept)
        if not report:   # one segment of a checkpointed run: the caller reports on the whole run
            return res
        if partial:
            done = ", ".join(str(k) for k in kept)
            warnings.warn(f"sampling was interrupted: every chain's draws so far are kept ({done} kept draws per chain"
                          + ("; arrays are padded with NaN past each chain's last draw" if len(set(kept)) > 1 else "")
                          + "). bb.sample(model, resume=result) finishes each chain and bb.concat joins the two.",
                          RuntimeWarning, stacklevel=3)
        elif n_keep > 0:
            warn_after_sampling(res)
        return res

    @classmethod
    def concat(cls, results):
        """Join results of the same chains along the draws (see bb.concat)."""
        results = [r for r in results]
        if not results or not all(isinstance(r, Result) for r in results):
            raise TypeError("concat takes bb.Result objects (a run and its resumed continuations)")
        first, last = results[0], results[-1]
        if len({r.chains for r in results}) != 1:
            raise ValueError(f"concat: the results have {[r.chains for r in results]} chains; join only a run and "
                             "its resumed continuations")
        if len({r.config.get("fingerprint") for r in results}) != 1 or len({r.seed for r in results}) != 1:
            raise ValueError("concat: the results come from different models, data or seeds; join only a run and "
                             "its resumed continuations")
        lengths = [sum(r.chain_draws[c] for r in results) for c in range(first.chains)]

        def join(get, pad_bool=False):
            return _stack_chains([np.concatenate([get(r)[c, :r.chain_draws[c]] for r in results])
                                  for c in range(first.chains)], pad_bool)

        posterior = {k: join(lambda r, k=k: r.posterior[k]) for k in first.posterior}
        stats = {k: join(lambda r, k=k: r.sample_stats[k], pad_bool=(k in _ZERO_PADDED)) for k in first.sample_stats}
        config = dict(last.config)
        grad = [sum(r.grad_evals[c] for r in results) for c in range(first.chains)] if all(
            r.grad_evals for r in results) else None
        return cls(posterior, stats, join(lambda r: r.unconstrained), model=last.model or first.model, config=config,
                   seconds=sum(r.seconds for r in results), partial=last.partial, sampler_states=last.sampler_states,
                   grad_evals=grad, chain_draws=lengths)

    @classmethod
    def _from_chains(cls, chains, config, sampler_states, grad_evals, seconds, partial):
        """A Result from each chain's rows (dicts of 'unconstrained', 'stats/<name>', 'posterior/<name>'
        arrays; None for a chain with none), as a checkpoint file holds them."""
        template = next(j for j in chains if j is not None)

        def stack(key):
            rows = [j[key] if j is not None else template[key][:0] for j in chains]
            return _stack_chains(rows, template[key].dtype == bool or key.split("/", 1)[-1] in _ZERO_PADDED)

        return cls({k.split("/", 1)[1]: stack(k) for k in template if k.startswith("posterior/")},
                   {k.split("/", 1)[1]: stack(k) for k in template if k.startswith("stats/")},
                   stack("unconstrained"), config=config, seconds=seconds, partial=partial,
                   sampler_states=sampler_states, grad_evals=grad_evals,
                   chain_draws=[len(j["unconstrained"]) if j is not None else 0 for j in chains])

    @staticmethod
    def _constrain(model, unconstrained):
        chains, n, dim = unconstrained.shape
        if model is None:
            return {"x": unconstrained.copy()}
        flat = unconstrained.reshape(chains * n, dim)
        ok = ~np.isnan(flat[:, 0]) if dim else np.ones(chains * n, bool)  # NaN rows pad chains an interruption left shorter
        if ok.all():   # every row a draw: the outputs as computed, no copies
            return {k: v.reshape((chains, n) + v.shape[1:]) for k, v in model.compiled.constrain_many(flat).items()}
        vals = model.compiled.constrain_many(flat[ok]) if ok.any() else {
            name: np.zeros((0,) + shape) for name, shape, _ in model.compiled.outputs}
        out = {}
        for k, v in vals.items():
            full = np.full((chains * n,) + v.shape[1:], np.nan)
            full[ok] = v
            out[k] = full.reshape((chains, n) + v.shape[1:])
        return out

    # shapes --------------------------------------------------------------------------------
    @property
    def chains(self):
        return self.unconstrained.shape[0]

    @property
    def draws(self):
        return self.unconstrained.shape[1]

    def divergences(self):
        """{cause: number of draws} of the kept draws that ended in a divergence, by the cause the sampler
        recorded (``energy``, ``not_finite``, ``ode_max_steps``, ...; see
        ``brr_bayes.infer.divergences.reasons()``); empty when none diverged.

        Example:
            >>> import brr_bayes as bb
            >>> with bb.Model() as m:
            ...     x = bb.Normal("x", 0, 1)
            >>> bb.sample(m, draws=200, tune=300, chains=1, seed=1, progressbar=False).divergences()
            {}
        """
        return _divergences.counts(self.sample_stats)

    def nested_rhat(self, superchains=4):
        """{name: nested R-hat} with the chains in ``superchains`` consecutive groups (see
        bb.convergence.nested_rhat): the convergence check for many short chains (sampler='chees' or 'meads').

        Example:
            >>> import numpy as np, brr_bayes as bb
            >>> with bb.Model() as m:
            ...     mu = bb.Normal("mu", 0, 1)
            >>> res = bb.sample(m, sampler="chees", chains=16, draws=50, tune=100, seed=1, progressbar=False)
            >>> bool(res.nested_rhat()["mu"] < 1.1)
            True
        """
        return {k: nested_rhat(v, superchains) for k, v in self.posterior.items()}

    def __repr__(self):
        flag = ", partial" if self.partial else ""
        return (f"Result({self.chains} chains x {self.draws} draws, {len(self.posterior)} variables, "
                f"{self.seconds:.2f} s{flag})")

    # ArviZ -----------------------------------------------------------------------------------
    def _dims_coords(self):
        dims, coords = {}, {}
        if self.model is None:
            return dims, coords
        for name, d in self.model.dims.items():
            if d:
                dims[name] = list(d)
                for k in d:
                    coords[k] = self.model.coords[k]
        return dims, coords

    def to_inference_data(self, prior=None):
        """An arviz.InferenceData: posterior, sample_stats, observed_data, and posterior_predictive,
        prior/prior_predictive (pass the dict from bb.sample_prior_predictive) and warm-up groups when present."""
        if self.draws == 0:
            raise ValueError("this result holds no kept draws (sampled with draws=0, or interrupted during warm-up); "
                             "draw some with bb.sample(model, resume=result, draws=N)")
        return self._inference_data(prior)

    def _inference_data(self, prior=None):
        import arviz as az
        dims, coords = self._dims_coords()
        observed = {}
        if self.model is not None:
            observed = {rv.name: rv.value for rv in self.model.observed_rvs}
        stats = {k: v for k, v in self.sample_stats.items()}
        kwargs = dict(posterior=self.posterior, sample_stats=stats, observed_data=observed or None, coords=coords,
                      dims=dims, posterior_predictive=self.posterior_predictive, log_likelihood=self.log_likelihood)
        if prior is not None:
            kwargs.update(prior=prior.get("prior"), prior_predictive=prior.get("prior_predictive"))
        if self.warmup_posterior is not None:
            kwargs.update(warmup_posterior=self.warmup_posterior, warmup_sample_stats=self.warmup_sample_stats,
                          save_warmup=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            idata = az.from_dict(**kwargs)
        idata.posterior.attrs.update({"inference_library": "brr_bayes", "inference_library_version":
                                      self.versions["brr_bayes"], "sampling_time": self.seconds,
                                      "seed": str(self.seed), "partial": int(self.partial)})
        return idata

    def summary(self, var_names=None, **kwargs):
        """pandas DataFrame: mean, sd, hdi_3%, hdi_97%, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat (ArviZ)."""
        import arviz as az
        if var_names is not None:
            var_names = [var_names] if isinstance(var_names, str) else list(var_names)
            unknown = [v for v in var_names if v not in self.posterior]
            if unknown:
                raise ValueError(f"summary: unknown variables {unknown}; available: {list(self.posterior)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return az.summary(self.to_inference_data(), var_names=var_names, **kwargs)

    # plots (ArviZ) -----------------------------------------------------------------------------
    def plot_trace(self, var_names=None, **kwargs):
        """Trace and density per chain (``kind="rank_bars"`` for rank plots)."""
        import arviz as az
        return az.plot_trace(self.to_inference_data(), var_names=var_names, **kwargs)

    def plot_rank(self, var_names=None, **kwargs):
        import arviz as az
        return az.plot_rank(self.to_inference_data(), var_names=var_names, **kwargs)

    def plot_forest(self, var_names=None, **kwargs):
        """Intervals of every element of (vector) parameters, one row each, with R-hat and ESS."""
        import arviz as az
        kwargs.setdefault("combined", True)
        kwargs.setdefault("r_hat", True)
        kwargs.setdefault("ess", True)
        return az.plot_forest(self.to_inference_data(), var_names=var_names, **kwargs)

    def plot_pair(self, var_names=None, **kwargs):
        """Pair plot with divergent draws marked."""
        import arviz as az
        kwargs.setdefault("divergences", True)
        return az.plot_pair(self.to_inference_data(), var_names=var_names, **kwargs)

    # save / load -------------------------------------------------------------------------------
    def save(self, path):
        """Write everything (draws, stats, unconstrained draws, sampler states) to a netCDF file.

        ``Result.load(path)`` reads it back; ``bb.sample(model, resume=Result.load(path))`` continues the run.
        """

        idata = self._inference_data()   # also a run with no kept draws yet (warm-up only), to resume
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata.add_groups({"unconstrained_posterior": {"x": self.unconstrained}})
        idata.posterior.attrs["brr_config"] = json.dumps(self.config)
        idata.posterior.attrs["brr_sampler_states"] = json.dumps(self.sampler_states)
        idata.posterior.attrs["brr_grad_evals"] = json.dumps(self.grad_evals)
        idata.posterior.attrs["brr_chain_draws"] = json.dumps(self.chain_draws)
        verified_file.write_verified(path, lambda tmp: idata.to_netcdf(tmp))
        return path

    @classmethod
    def load(cls, path, *, verify=True):
        """Read a Result written by ``save``, or the run so far in a checkpoint file (without the model:
        predictive draws need it). A checkpoint of an unfinished run loads with ``partial=True``.

        The file's checksum is checked first: a truncated or corrupted file raises ``bb.ResultFileError``.

        Example:
            >>> import numpy as np, brr_bayes as bb, tempfile, os
            >>> res = bb.sample_logp(lambda x: (-0.5 * x @ x, -x), 1, draws=20, tune=20, chains=1, seed=0)
            >>> path = res.save(os.path.join(tempfile.mkdtemp(), "run.nc"))
            >>> bool(np.array_equal(bb.Result.load(path).unconstrained, res.unconstrained))
            True
        """
        if not os.path.exists(str(path)):
            raise FileNotFoundError(f"Result.load: no file at {path}")
        if checkpoint_file.is_checkpoint(str(path)):   # records with their own checksums
            res = cls._from_chains(**checkpoint_file.read(str(path)))
        else:
            if verify:
                verified_file.verify(str(path))
            try:
                res = cls._read(path)
            except Exception as e:  # h5py, netCDF, JSON and missing-key errors all mean the same thing here
                raise ResultFileError(f"Result.load: {path} is not a result saved by brr_bayes ({type(e).__name__}: "
                                      f"{str(e)[:200]}); use another copy or sample again") from None
        res.source = os.path.abspath(str(path))
        res.sampler_states = [_current_layout(s, res.config.get("sampler", "nuts")) for s in res.sampler_states]
        return res

    @classmethod
    def _read(cls, path):

        import arviz as az
        idata = az.from_netcdf(str(path))
        post = {k: idata.posterior[k].values for k in idata.posterior.data_vars}
        stats = {k: idata.sample_stats[k].values for k in idata.sample_stats.data_vars}
        attrs = idata.posterior.attrs
        res = cls(post, stats, idata["unconstrained_posterior"]["x"].values, model=None,
                  config=json.loads(attrs["brr_config"]), seconds=float(attrs.get("sampling_time", 0.0)),
                  partial=bool(int(attrs.get("partial", 0))), sampler_states=json.loads(attrs["brr_sampler_states"]),
                  grad_evals=json.loads(attrs["brr_grad_evals"]),
                  chain_draws=json.loads(attrs["brr_chain_draws"]) if "brr_chain_draws" in attrs else None)
        if "posterior_predictive" in idata.groups():
            res.posterior_predictive = {k: idata.posterior_predictive[k].values
                                        for k in idata.posterior_predictive.data_vars}
        return res


def _current_layout(state, sampler):
    """A saved chain state in today's layout (states saved by earlier releases hold positional vectors); one
    this release cannot read stays as saved, and a resume from it says why."""
    if state is None:
        return None
    try:
        return _backend.core().upgrade_sampler_state(state, sampler)
    except ValueError:
        return state
