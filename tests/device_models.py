"""One small model per op family beyond W1-W5's, each written as a user would, keyed by the op code it
is there to run: tests/test_device_executor.py checks the device kernels on the host against the scalar
executor with them, tests/test_cuda.py on a GPU (where hypothesis may not be installed, hence this file)."""
import functools

import numpy as np
import scipy.sparse as sp

import brr_bayes as bb
from brr_bayes import ops


@functools.lru_cache(maxsize=None)
def op_family_models():
    """{op code: model}; a model may stand for several codes (all of them in its program)."""
    rng = np.random.default_rng(11)
    n = 40
    g1, g2 = rng.integers(0, 5, n), rng.integers(0, 3, n)
    col, y = rng.normal(size=n), rng.normal(size=n)
    out = {}
    with bb.Model() as m:   # a sum of gathered, scalar and column terms outside any GLM
        a, b, s = bb.Normal("a", 0, 1, shape=5), bb.Normal("b", 0, 1, shape=3), bb.Normal("s", 0, 1)
        v = bb.Normal("v", 0, 1, shape=n)
        bb.Potential("p", bb.math.tanh(1.0 + a[g1] + s * col + col * b[g2] + s + v).sum())
    out[ops.LINEAR_PREDICTOR] = m
    with bb.Model() as m:   # pieces of a vector, one of them data
        a, b = bb.Normal("a", 0, 1, shape=3), bb.Normal("b", 0, 1, shape=2)
        z = bb.math.concatenate([a, np.array([0.5]), bb.math.exp(b)])
        bb.Normal("y", z, 1.0, observed=rng.normal(size=6))
    out[ops.CONCAT] = m
    with bb.Model() as m:   # a mixture's components as log-densities per element
        mu = bb.Normal("mu", 0, 5, shape=2, transform="ordered")
        sd = bb.HalfNormal("sd", 2)
        w = bb.Normal("w", 0, 1)
        lp1 = bb.math.log_inv_logit(w) + bb.Normal.logp(y, mu=mu[0], sigma=sd)
        lp2 = bb.math.log1m_inv_logit(w) + bb.Normal.logp(y, mu=mu[1], sigma=sd)
        bb.Potential("mix", bb.math.logsumexp(bb.math.stack([lp1, lp2]), axis=0).sum())
    out[ops.POINTWISE_LPDF] = out[ops.ORDERED] = out[ops.LOGSUMEXP] = m
    with bb.Model() as m:   # category shares by softmax, zero-sum effects
        e = bb.Normal("e", 0, 1, shape=(3, 4), transform="sum_to_zero")
        p = bb.math.softmax(e, axis=-1)
        bb.Potential("p", (p * np.arange(4.0)).sum() + bb.math.log(p[:, 0]).sum())
    out[ops.SOFTMAX] = out[ops.SUM_TO_ZERO] = m
    cat = rng.integers(0, 4, n)
    with bb.Model() as m:   # ordinal survey answers: shared cutpoints, and one set per row
        beta = bb.Normal("beta", 0, 1)
        c = bb.Normal("c", 0, 3, shape=3, transform="ordered")
        bb.OrderedLogistic("y", beta * col, c, observed=cat)
        bb.OrderedProbit("y2", beta * col, c[None, :] + 0.1 * col[:, None], observed=cat[::-1])
    out[ops.ORDERED_LOGISTIC] = out[ops.ORDERED_PROBIT] = m
    with bb.Model() as m:   # AR(1)-style errors over 3 series, one of a and b data
        th = bb.Normal("th", 0, 0.5, shape=3)
        x0 = bb.Normal("x0", 0, 1, shape=3)
        e = bb.math.linear_recurrence(-th, rng.normal(size=(12, 3)), x0)
        e2 = bb.math.linear_recurrence(0.7, e, 0.0)
        bb.Potential("p", -0.5 * (e2 * e2).sum())
    out[ops.LINEAR_RECURRENCE] = m
    A = sp.random(9, 6, density=0.4, random_state=3, format="csr")
    with bb.Model() as m:   # a sparse design (spatial weights, one-hot blocks) times parameters
        w = bb.Normal("w", 0, 1, shape=6)
        bb.Normal("y", A @ w, 1.0, observed=rng.normal(size=9))
    out[ops.CSR_MATVEC] = m
    with bb.Model() as m:   # vote choice among 4 parties from group effects; counts of 3 outcomes by row
        u = bb.Normal("u", 0, 1, shape=(5, 3))
        bb.Categorical("vote", logits=bb.math.stack([np.zeros(n)] + [u[g1, j] for j in range(3)], axis=-1),
                       observed=cat)
        lg = bb.Normal("lg", 0, 1, shape=(4, 3))
        bb.Multinomial("k", 7, logits=lg, observed=np.array([[1, 2, 4], [0, 0, 7], [3, 3, 1], [5, 1, 1]]))
    out[ops.CATEGORICAL_LOGIT] = out[ops.MULTINOMIAL_LOGIT] = m
    with bb.Model() as m:   # correlated varying intercepts and slopes, LKJ prior on the correlation factor
        tau = bb.HalfNormal("tau", 1, shape=2)
        L = bb.LKJCholesky("L", 2, 2.0)
        xi = bb.MvNormal("xi", np.zeros(2), chol=tau[:, None] * L, shape=(5, 2))
        bb.Normal("y", xi[g1, 0] + xi[g1, 1] * col, 1.0, observed=y)
    out[ops.MVNORMAL_CHOLESKY] = out[ops.LKJ_CHOLESKY] = out[ops.CHOLESKY_CORR] = m
    with bb.Model() as m:   # shares on the simplex; a covariance built, factored and solved against
        w = bb.Dirichlet("w", np.array([2.0, 1.0, 3.0]), shape=(2, 3))
        a = bb.Dirichlet("a", np.ones(3))
        S = bb.Normal("S", 0, 1, shape=(3, 3))
        Lc = bb.math.cholesky(S @ S.T + 3 * np.eye(3))
        z = bb.math.solve_lower_triangular(Lc, w[0] - a)
        bb.Potential("p", -0.5 * (z * z).sum() + bb.math.log(w[1]).sum())
    out[ops.SIMPLEX] = out[ops.DIRICHLET] = out[ops.CHOLESKY] = out[ops.TRISOLVE] = m
    y2 = np.stack([y[:7], y[7:14] + 1.0])
    with bb.Model() as m:   # two sequences of a 2-state regime model, sticky transitions learnt
        mu = bb.Normal("mu", 0, 5, shape=2, transform="ordered")
        stay = bb.Beta("stay", 8, 2)
        trans = bb.math.stack([bb.math.stack([stay, 1 - stay]), bb.math.stack([1 - stay, stay])])
        bb.HMM("y", np.log([0.5, 0.5]), bb.math.log(trans), bb.Normal.logp(y2[:, :, None], mu, 0.5))
    out[ops.HMM_LOGLIK] = m
    u = rng.normal(size=(12, 2))
    with bb.Model() as m:   # scans of traced steps: a nonlinear state with noisy inputs, a GARCH-like variance
        x0 = bb.Normal("x0", 0, 1, shape=2)
        w = bb.Normal("w", 0, 1, shape=2)
        e = bb.Normal("e", 0, 0.3, shape=(12, 2))
        x = bb.math.scan(lambda xp, ut: bb.math.tanh(w * xp + ut.sum()) + 0.1 * xp ** 2, x0, u + e)
        omega = bb.HalfNormal("omega", 1)
        s = bb.math.scan(lambda sp, et: omega + 0.2 * et ** 2 + 0.5 * sp, 0.1, u[:, 0])
        bb.Normal("yx", x[:, 0], 1.0, observed=rng.normal(size=12))
        bb.Normal("ys", 0.0, bb.math.sqrt(s), observed=u[:, 1])
    out[ops.SCAN] = m
    return out
