"""Op codes (generated from csrc/ir/ops.def, as the C++ enum is), their names, and numpy versions for constant folding."""
import numpy as np
from scipy import special

from ._op_codes import *  # noqa: F401,F403  (NEG ... GLM: the table in csrc/ir/ops.def)
from ._op_codes import GLM_FAMILY_NAMES, TABLE  # noqa: F401  (GLM_* and TERM_*: csrc/ir/glm.def)


_NAMES = {code: py.lower() for py, code in TABLE.items()}


def name(code):
    """The op's name for messages and explain() (e.g. 'gather', 'glm')."""
    return _NAMES.get(int(code), f"op{int(code)}")


_UNARY = {
    NEG: np.negative, EXP: np.exp, LOG: np.log, LOG1P: np.log1p, EXPM1: np.expm1, LOGIT: special.logit,
    INV_LOGIT: special.expit, LOG_INV_LOGIT: special.log_expit,
    LOG1M_INV_LOGIT: lambda x: special.log_expit(-x), SOFTPLUS: lambda x: np.logaddexp(0.0, x),
    SQRT: np.sqrt, SQUARE: np.square, TANH: np.tanh, ABS: np.abs, LGAMMA: special.gammaln, ERF: special.erf,
}
_BINARY = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.divide, POW: np.power,
           LT: np.less, LE: np.less_equal, GT: np.greater, GE: np.greater_equal}
_ELEMENTWISE = {WHERE: lambda c, a, b: np.where(c != 0, a, b)}  # other arities: code -> numpy function


def numpy_unary(code, x):
    return _UNARY[code](np.asarray(x, dtype=np.float64))


def numpy_binary(code, a, b):
    return np.asarray(_BINARY[code](np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)), dtype=np.float64)


def numpy_elementwise(code, *args):
    return np.asarray(_ELEMENTWISE[code](*(np.asarray(a, dtype=np.float64) for a in args)), dtype=np.float64)
