"""Formula interface for multilevel GLMs (bb.GLM, bb.glm) and poststratification (bb.poststratify)."""
from .families import FAMILIES, Family
from .glm import GLM, GLMFit, glm
from .parse import FormulaError, parse_formula
from .poststratify import Poststratification, poststratify

__all__ = ["GLM", "GLMFit", "glm", "poststratify", "Poststratification", "FormulaError", "parse_formula",
           "FAMILIES", "Family"]
