"""Inference over a compiled model: the samplers' Python side, results, diagnostics, predictive draws,
checkpoints and distributed fits. Imports ``model`` and ``compile``; neither imports it."""
from . import convergence, diagnostics
from .daily import DailyRefit
from .fit_many import fit_many
from .pathfinding import PathfinderResult, pathfinder
from .predictive import compute_log_likelihood, sample_posterior_predictive, sample_prior_predictive
from .result import Result, ResultFileError
from .samplers import MEADS, NUTS, ChEES
from .sampling import concat, sample, sample_logp
from .sbc import SBCResult, sbc

__all__ = ["sample", "sample_logp", "concat", "pathfinder", "PathfinderResult", "fit_many", "Result",
           "ResultFileError", "sample_prior_predictive", "sample_posterior_predictive", "compute_log_likelihood",
           "convergence", "diagnostics", "sbc", "SBCResult", "DailyRefit", "NUTS", "ChEES", "MEADS"]
