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

    def to_inference_data(self):
        """An arviz.InferenceData with posterior, sample_stats, observed_data (and warmup groups if kept)."""
        import arviz as az
        dims, coords = self._dims_coords()
        observed = {}
        if self.model is not None:
            observed = {rv.name: rv.value for rv in self.model.observed_rvs}
        stats = {k: v for k, v in self.sample_stats.items()}
        kwargs = dict(posterior=self.posterior, sample_stats=stats, observed_data=observed or None, coords=coords,
                      dims=dims)
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
