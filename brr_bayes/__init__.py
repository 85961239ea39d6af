"""brr_bayes: fast, trustworthy NUTS for multilevel survey and election models.

Example:
    >>> import numpy as np, brr_bayes as bb
    >>> with bb.Model() as model:
    ...     mu = bb.Normal("mu", 0, 1)
    ...     _ = bb.Normal("y", mu, 1, observed=np.array([0.3, -0.1]))
    >>> result = bb.sample(model, draws=200, tune=200, chains=2, seed=1, progressbar=False)
"""
# Three layers, each importing only those before it: model (describe), compile (lower to a Program),
# infer (sample and summarise); formula builds on all three.
from ._backend import cuda_available, cuda_built
from .model import Deterministic, Model, Potential, gp, math, ode, transforms
from .model.distributions import (Bernoulli, Beta, Binomial, Categorical, Cauchy, Dirichlet, Distribution,
                                  Exponential, Flat, Gamma, HalfCauchy, HalfFlat, HalfNormal, HalfStudentT,
                                  InverseGamma, Laplace, LKJCholesky, LogNormal, Mixture, Multinomial, MvNormal,
                                  NegativeBinomial, Normal, OrderedLogistic, OrderedProbit, Poisson, StudentT,
                                  Uniform, ZeroSumNormal)
from .model.gp import HSGP
from .model.hmm import HMM
from .model.priors import (AR1, BYM2, ICAR, R2D2, RW1, RW2, RandomEffect, RegularizedHorseshoe,
                           bym2_scaling_factors, icar_precision)
from .compile.options import CompileOptions
from .infer import (MEADS, NUTS, ChEES, DailyRefit, PathfinderResult, Result, ResultFileError, compute_log_likelihood,
                    concat, convergence, diagnostics, fit_many, pathfinder, sample, sample_logp,
                    sample_posterior_predictive, sample_prior_predictive, SBCResult, sbc)
from .infer import distributed
from .formula import GLM, FormulaError, GLMFit, Poststratification, glm, poststratify
from . import testing

from ._version import __version__

__all__ = ["Model", "CompileOptions", "Deterministic", "Potential", "sample", "NUTS", "ChEES", "MEADS", "sample_logp", "sbc", "SBCResult", "DailyRefit", "pathfinder", "PathfinderResult", "concat", "fit_many", "HSGP", "gp", "ode", "HMM", "sample_prior_predictive",
           "sample_posterior_predictive", "compute_log_likelihood", "Result", "ResultFileError", "RandomEffect", "ICAR",
           "BYM2", "RW1", "RW2", "AR1", "RegularizedHorseshoe", "R2D2", "bym2_scaling_factors", "icar_precision", "math", "cuda_available", "cuda_built",
           "Distribution", "Normal", "HalfNormal", "StudentT", "HalfStudentT", "Cauchy", "HalfCauchy", "Laplace",
           "Exponential", "Gamma", "InverseGamma", "LogNormal", "Beta", "Uniform", "Flat", "HalfFlat", "Bernoulli",
           "Binomial", "Poisson", "NegativeBinomial", "Categorical", "Multinomial", "Dirichlet", "MvNormal",
           "LKJCholesky", "ZeroSumNormal", "OrderedLogistic", "OrderedProbit", "Mixture", "GLM", "GLMFit", "glm", "poststratify", "Poststratification",
           "FormulaError", "testing", "__version__"]
