"""Model building: expressions, free variables, distributions, transforms and structured priors.

This package describes a model and nothing else: it never imports ``brr_bayes.compile`` or
``brr_bayes.infer`` when loaded. The one edge towards the compiler is ``Model.compiled``, taken the
first time a model is evaluated (see core.py).
"""
from . import distributions, gp, math, ode
from .core import Deterministic, FreeRV, Model, Potential

__all__ = ["Model", "FreeRV", "Deterministic", "Potential", "distributions", "gp", "math", "ode"]
