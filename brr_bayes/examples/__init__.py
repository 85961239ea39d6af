"""Example data and models that ship with the package: the simulated survey the demo fits (also the
benchmarks' workload W2) and its census for poststratification.

Example:
    >>> import brr_bayes as bb
    >>> from brr_bayes.examples import simulate_survey, mrp_logit
    >>> d = simulate_survey(2000)
    >>> result = bb.sample(mrp_logit(d, collapsed=True), draws=200, tune=200)   # doctest: +SKIP
"""
from .survey import SURVEY_BLOCKS, mrp_logit, simulate_survey, survey_census

__all__ = ["SURVEY_BLOCKS", "mrp_logit", "simulate_survey", "survey_census"]
