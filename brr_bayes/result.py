"""Result of bb.sample: draws by variable with dims/coords, sampler statistics, and ArviZ output."""
from __future__ import annotations

import platform
import warnings

import numpy as np

_STATS = ("step_size", "energy", "energy_error", "acceptance_rate", "lp", "tree_depth", "n_steps", "diverging")


class Result:
    """Posterior draws and everything needed to check and reuse them.

    Attributes:
        posterior: {name: array (chain, draw, *shape)} for free variables and Deterministics.
        sample_stats: {stat: array (chain, draw)} with ArviZ's names.
        unconstrained: array (chain, draw, dim) of the flat unconstrained draws.
        partial: True when sampling was interrupted before every draw was made.
    """

    def __init__(self, posterior, sample_stats, unconstrained, *, model=None, config=None, seconds=0.0,
                 partial=False, warmup_posterior=None, warmup_sample_stats=None, sampler_states=None,
                 grad_evals=None):
        self.posterior = posterior
        self.sample_stats = sample_stats
        self.unconstrained = unconstrained
        self.model = model
        self.config = dict(config or {})
        self.seed = self.config.get("seed")
        self.seconds = seconds
        self.partial = partial
        self.warmup_posterior = warmup_posterior
        self.warmup_sample_stats = warmup_sample_stats
        self.sampler_states = sampler_states or []
        self.grad_evals = grad_evals
        self.posterior_predictive = None
        self.log_likelihood = None
        from . import __version__
        self.versions = {"brr_bayes": __version__, "numpy": np.__version__, "python": platform.python_version()}

    @classmethod
    def from_run(cls, run, config, *, model, seconds, partial):
        traces = [run.trace(c) for c in range(config["chains"])]
        states = [run.state(c) for c in range(config["chains"])]
        if partial:  # chains that had not started hold nothing; the others are cut to a common length
            keep = [c for c, t in enumerate(traces) if (~t["warmup"].astype(bool)).sum() > 0] or [0]
            traces = [traces[c] for c in keep]
            config = dict(config, chains=len(traces))
        warm = [t["warmup"].astype(bool) for t in traces]
        n_keep = min(int((~w).sum()) for w in warm)
        n_warm = min(int(w.sum()) for w in warm)

        def pick(key, mask_warm, n):
            return np.stack([t[key][w == mask_warm][:n] for t, w in zip(traces, warm)])

        unconstrained = pick("draws", False, n_keep)
        stats = {k: pick(k, False, n_keep) for k in _STATS}
        stats["diverging"] = stats["diverging"].astype(bool)
        posterior = cls._constrain(model, unconstrained)
        warm_post = warm_stats = None
        if config.get("keep_warmup"):
            wu = pick("draws", True, n_warm)
            warm_post = cls._constrain(model, wu)
            warm_stats = {k: pick(k, True, n_warm) for k in _STATS}
        res = cls(posterior, stats, unconstrained, model=model, config=config, seconds=seconds, partial=partial,
                  warmup_posterior=warm_post, warmup_sample_stats=warm_stats,
                  sampler_states=[s for s in states if s is not None],
                  grad_evals=[int(t["grad_evals"]) for t in traces])
        if not partial and n_keep > 0:
            from .diagnostics import warn_after_sampling
            warn_after_sampling(res)
        return res

    @staticmethod
    def _constrain(model, unconstrained):
        chains, n, dim = unconstrained.shape
        if model is None:
            return {"x": unconstrained.copy()}
        flat = model.compiled.constrain_many(unconstrained.reshape(chains * n, dim)) if n else {
            name: np.zeros((0,) + shape) for name, shape, _ in model.compiled.outputs}
        return {k: v.reshape((chains, n) + v.shape[1:]) for k, v in flat.items()}

    # shapes --------------------------------------------------------------------------------
    @property
    def chains(self):
        return self.unconstrained.shape[0]

    @property
    def draws(self):
        return self.unconstrained.shape[1]

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
        import json

        idata = self.to_inference_data()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata.add_groups({"unconstrained_posterior": {"x": self.unconstrained}})
        idata.posterior.attrs["brr_config"] = json.dumps(self.config)
        idata.posterior.attrs["brr_sampler_states"] = json.dumps(self.sampler_states)
        idata.posterior.attrs["brr_grad_evals"] = json.dumps(self.grad_evals)
        idata.to_netcdf(str(path))
        return path

    @classmethod
    def load(cls, path):
        """Read a Result written by ``save`` (without the model: predictive draws need it)."""
        import json

        import arviz as az
        idata = az.from_netcdf(str(path))
        post = {k: idata.posterior[k].values for k in idata.posterior.data_vars}
        stats = {k: idata.sample_stats[k].values for k in idata.sample_stats.data_vars}
        attrs = idata.posterior.attrs
        res = cls(post, stats, idata["unconstrained_posterior"]["x"].values, model=None,
                  config=json.loads(attrs["brr_config"]), seconds=float(attrs.get("sampling_time", 0.0)),
                  partial=bool(int(attrs.get("partial", 0))), sampler_states=json.loads(attrs["brr_sampler_states"]),
                  grad_evals=json.loads(attrs["brr_grad_evals"]))
        if "posterior_predictive" in idata.groups():
            res.posterior_predictive = {k: idata.posterior_predictive[k].values
                                        for k in idata.posterior_predictive.data_vars}
        return res
