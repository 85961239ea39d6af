"""Model building: expressions, free variables, distributions, transforms and structured priors.

This package describes a model and nothing else: it never imports ``brr_bayes.compile`` or
``brr_bayes.infer``. The compiler is handed to ``Model`` by ``brr_bayes.compile`` when that loads
(``Model.use_compiler``), and ``Model.compiled`` calls it the first time a model is evaluated.
"""
from . import distributions, gp, math, ode
from .core import Deterministic, FreeRV, Model, Potential

__all__ = ["Model", "FreeRV", "Deterministic", "Potential", "distributions", "gp", "math", "ode"]
