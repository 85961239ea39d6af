"""GLM families: the likelihood on the linear predictor, its inverse link, and default priors.

Default priors (overridable per term through ``priors=`` of bb.glm) follow rstanarm's weakly
informative choices; ``s_y`` is the response's sd for the gaussian and student families, 1 otherwise:

    Intercept            Normal(mean_y, 2.5 s_y)   (mean_y = 0 outside gaussian/student)
    b (each column k)    Normal(0, 2.5 s_y / sd(x_k))   (sd(x_k) = 1 for constant columns)
    sd_<group>           HalfNormal(s_y)
    cor_<group>          LKJ eta = 2 for correlated varying effects
    sigma                Exponential(1 / s_y)      gaussian, student
    nu                   Gamma(2, 0.1)             student
    phi                  Gamma(2, 0.1)             negbinomial (variance mu + mu^2 / phi)
    cutpoints            Normal(0, 5), ordered     ordered_logistic, ordered_probit (K-1 of them; they
                                                   take the intercept's place, so the model has none)

The categorical family (multinomial logit: vote choice among several candidates) gives each category
k = 1..K-1 its own copy of every term, named with the suffix _k (Intercept_1, b_1, sd_state_1, ...),
against category 0 as the reference; the priors above apply to every copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from ..model import distributions as D


@dataclass(frozen=True)
class Family:
    name: str
    inverse_link: Callable      # numpy ufunc-like (accepts out=): eta -> mean of one trial / observation
    aux: tuple = ()             # names of auxiliary parameters
    continuous: bool = False    # response is continuous (priors scale with its sd)
    needs_trials: bool = False
    ordinal: bool = False       # response is a category id 0..K-1 of an ordered scale
    categorical: bool = False   # response is one of K unordered categories 0..K-1 (multinomial logit)

    def default_aux_prior(self, name, s_y):
        if name == "cutpoints":
            return D.Normal.dist(0.0, 5.0)
        if name == "sigma":
            return D.Exponential.dist(1.0 / s_y)
        return D.Gamma.dist(2.0, 0.1)  # nu (student), phi (negbinomial)

    def likelihood(self, name, eta, y, aux, trials=None, dims=None):
        """Register the observed response ``name`` given the linear predictor expression ``eta``."""
        if self.name == "bernoulli":
            return D.Bernoulli(name, logit_p=eta, observed=y, dims=dims)
        if self.name == "binomial":
            return D.Binomial(name, trials, logit_p=eta, observed=y, dims=dims)
        if self.name == "poisson":
            return D.Poisson(name, log_mu=eta, observed=y, dims=dims)
        if self.name == "negbinomial":
            return D.NegativeBinomial(name, log_mu=eta, phi=aux["phi"], observed=y, dims=dims)
        if self.name == "gaussian":
            return D.Normal(name, eta, aux["sigma"], observed=y, dims=dims)
        if self.name == "ordered_logistic":
            return D.OrderedLogistic(name, eta, aux["cutpoints"], observed=y, dims=dims)
        if self.name == "ordered_probit":
            return D.OrderedProbit(name, eta, aux["cutpoints"], observed=y, dims=dims)
        return D.StudentT(name, aux["nu"], eta, aux["sigma"], observed=y, dims=dims)


def _identity(eta, out=None):
    if out is not None and out is not eta:
        out[...] = eta
        return out
    return eta


FAMILIES = {
    "bernoulli": Family("bernoulli", special.expit),
    "binomial": Family("binomial", special.expit, needs_trials=True),
    "poisson": Family("poisson", np.exp),
    "negbinomial": Family("negbinomial", np.exp, aux=("phi",)),
    "gaussian": Family("gaussian", _identity, aux=("sigma",), continuous=True),
    "student": Family("student", _identity, aux=("nu", "sigma"), continuous=True),
    "ordered_logistic": Family("ordered_logistic", None, aux=("cutpoints",), ordinal=True),
    "ordered_probit": Family("ordered_probit", None, aux=("cutpoints",), ordinal=True),
    "categorical": Family("categorical", None, categorical=True),
}
_ALIASES = {"logit": "bernoulli", "logistic": "bernoulli", "normal": "gaussian", "negative_binomial": "negbinomial",
            "neg_binomial": "negbinomial", "student_t": "student", "studentt": "student",
            "cumulative": "ordered_logistic", "ordinal": "ordered_logistic", "ordered_logit": "ordered_logistic",
            "multinomial_logit": "categorical", "categorical_logit": "categorical"}


def get_family(family) -> Family:
    if isinstance(family, Family):
        return family
    key = str(family).lower()
    key = _ALIASES.get(key, key)
    if key not in FAMILIES:
        raise ValueError(f"unknown family '{family}'; choose one of {sorted(FAMILIES)}")
    return FAMILIES[key]
