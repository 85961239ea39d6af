"""Op codes shared with the C++ core (csrc/ad/op_codes.hpp) and numpy versions for constant folding."""
import numpy as np
from scipy import special

# elementwise unary
NEG, EXP, LOG, LOG1P, EXPM1, LOGIT, INV_LOGIT, LOG_INV_LOGIT, SOFTPLUS, SQRT, SQUARE, TANH, ABS, LGAMMA, \
    LOG1M_INV_LOGIT = range(15)
# elementwise binary
ADD, SUB, MUL, DIV, POW = range(100, 105)
# structure
GATHER, SCATTER_ADD, SUM, CUMSUM, LOGSUMEXP, SOFTMAX, CONCAT, DENSE_MATMUL, CSR_MATVEC, TARGET_ADD, \
    LINEAR_PREDICTOR = range(200, 211)
# transforms
LOWER_BOUND, UPPER_BOUND, INTERVAL, ORDERED, SIMPLEX, SUM_TO_ZERO, CHOLESKY_CORR = range(300, 307)
# densities
NORMAL, STUDENT_T, CAUCHY, LAPLACE, EXPONENTIAL, GAMMA, INV_GAMMA, LOGNORMAL, BETA, UNIFORM = range(400, 410)
BERNOULLI_LOGIT, BINOMIAL_LOGIT, POISSON_LOG, NEG_BINOMIAL_LOG, CATEGORICAL_LOGIT, MULTINOMIAL_LOGIT = range(450, 456)
DIRICHLET, MVNORMAL_CHOLESKY, LKJ_CHOLESKY = range(480, 483)
ICAR_PAIRWISE = 490
GLM = 495
GLM_BERNOULLI, GLM_BINOMIAL, GLM_POISSON, GLM_NORMAL, GLM_NEGBIN = 0, 1, 2, 3, 4  # GLM families (density/glm.cpp)

_NAMES = {}
for _name, _code in list(globals().items()):
    if _name.isupper() and isinstance(_code, int) and not _name.startswith("GLM_") and _code not in _NAMES:
        _NAMES[_code] = _name.lower()
GLM_FAMILY_NAMES = {GLM_BERNOULLI: "bernoulli-logit", GLM_BINOMIAL: "binomial-logit", GLM_POISSON: "poisson-log",
                    GLM_NORMAL: "normal", GLM_NEGBIN: "negative-binomial-log"}


def name(code):
    """The op's name for messages and explain() (e.g. 'gather', 'glm')."""
    return _NAMES.get(int(code), f"op{int(code)}")


_UNARY = {
    NEG: np.negative, EXP: np.exp, LOG: np.log, LOG1P: np.log1p, EXPM1: np.expm1, LOGIT: special.logit,
    INV_LOGIT: special.expit, LOG_INV_LOGIT: special.log_expit,
    LOG1M_INV_LOGIT: lambda x: special.log_expit(-x), SOFTPLUS: lambda x: np.logaddexp(0.0, x),
    SQRT: np.sqrt, SQUARE: np.square, TANH: np.tanh, ABS: np.abs, LGAMMA: special.gammaln,
}
_BINARY = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.divide, POW: np.power}


def numpy_unary(code, x):
    return _UNARY[code](np.asarray(x, dtype=np.float64))


def numpy_binary(code, a, b):
    return _BINARY[code](np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
