"""Distributions: name-first constructors that register variables in the current model."""
from .base import Distribution
from .mixture import Mixture
from .ordinal import OrderedLogistic, OrderedProbit
from .multivariate import Categorical, Dirichlet, LKJCholesky, Multinomial, MvNormal, ZeroSumNormal
from .univariate import (Bernoulli, Beta, Binomial, Cauchy, Exponential, Flat, Gamma, HalfCauchy, HalfFlat,
                         HalfNormal, HalfStudentT, InverseGamma, Laplace, LogNormal, NegativeBinomial, Normal,
                         Poisson, StudentT, Uniform)

__all__ = ["Distribution", "Normal", "HalfNormal", "StudentT", "HalfStudentT", "Cauchy", "HalfCauchy", "Laplace",
           "Exponential", "Gamma", "InverseGamma", "LogNormal", "Beta", "Uniform", "Flat", "HalfFlat",
           "Bernoulli", "Binomial", "Poisson", "NegativeBinomial", "Categorical", "Multinomial", "Dirichlet",
           "MvNormal", "LKJCholesky", "ZeroSumNormal", "OrderedLogistic", "OrderedProbit", "Mixture"]
