// Constraining transforms: out = T(y) and target += log|det J|, gradients of both in the backward pass.
#include <cmath>

#include "ad/kernels.hpp"
#include "ad/scalar_math.hpp"
#include "common/errors.hpp"

namespace brr::ad {

namespace {

// Stan's stick-breaking simplex, one vector of K outputs from K-1 inputs; returns log|J|.
double simplex_fwd(const double* y, double* x, std::size_t K, double* s, double* z) {
  double stick = 1.0, lp = 0.0;
  for (std::size_t k = 0; k + 1 < K; ++k) {
    const double u = y[k] - std::log(static_cast<double>(K - 1 - k));
    s[k] = stick;
    z[k] = inv_logit(u);
    x[k] = stick * z[k];
    lp += std::log(stick) + log_inv_logit(u) + log1m_inv_logit(u);
    stick -= x[k];
  }
  x[K - 1] = stick;
  return lp;
}

// Stan's tanh-based Cholesky factor of a correlation matrix (row-major K x K); returns log|J|.
double chol_corr_fwd(const double* y, double* L, std::size_t K) {
  double lp = 0.0;
  for (std::size_t i = 0; i < K * K; ++i) L[i] = 0.0;
  L[0] = 1.0;
  std::size_t k = 0;
  for (std::size_t i = 1; i < K; ++i) {
    double ss = 0.0;
    for (std::size_t j = 0; j < i; ++j, ++k) {
      const double z = std::tanh(y[k]);
      lp += std::log1p(-z * z);
      if (j == 0) {
        L[i * K] = z;
      } else {
        lp += 0.5 * std::log1p(-ss);
        L[i * K + j] = z * std::sqrt(1.0 - ss);
      }
      ss += L[i * K + j] * L[i * K + j];
    }
    L[i * K + i] = std::sqrt(std::max(0.0, 1.0 - ss));
  }
  return lp;
}

}  // namespace

void transform_forward(const Op& op, Ctx& c) {
  const double* y = c.v(op.in[0]);
  double* x = c.out(op.out);
  const std::size_t n = c.n(op.in[0]);
  double lp = 0.0;
  switch (op.code) {
    case OpCode::LowerBound: {
      const double lb = op.dp[0];
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = lb + std::exp(y[i]);
        lp += y[i];
      }
      break;
    }
    case OpCode::UpperBound: {
      const double ub = op.dp[0];
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = ub - std::exp(y[i]);
        lp += y[i];
      }
      break;
    }
    case OpCode::Interval: {
      const double a = op.dp[0], w = op.dp[1] - op.dp[0], lw = std::log(w);
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = a + w * inv_logit(y[i]);
        lp += lw + log_inv_logit(y[i]) + log1m_inv_logit(y[i]);
      }
      break;
    }
    case OpCode::Ordered: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      for (std::size_t r = 0; r < b; ++r) {
        const double* yr = y + r * K;
        double* xr = x + r * K;
        xr[0] = yr[0];
        for (std::size_t k = 1; k < K; ++k) {
          xr[k] = xr[k - 1] + std::exp(yr[k]);
          lp += yr[k];
        }
      }
      break;
    }
    case OpCode::SumToZero: {
      const std::size_t b = op.ip[0], K = op.ip[1], N = K - 1;
      for (std::size_t r = 0; r < b; ++r) {
        const double* yr = y + r * N;
        double* xr = x + r * K;
        for (std::size_t k = 0; k < K; ++k) xr[k] = 0.0;
        double sum_w = 0.0;
        for (std::size_t i = N; i > 0; --i) {
          const double d = static_cast<double>(i);
          const double w = yr[i - 1] / std::sqrt(d * (d + 1.0));
          sum_w += w;
          xr[i - 1] += sum_w;
          xr[i] -= w * d;
        }
      }
      break;  // an isometry onto the zero-sum subspace: log|J| = 0
    }
    case OpCode::Simplex: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      double* s = c.ws.scratch.data();
      for (std::size_t r = 0; r < b; ++r) lp += simplex_fwd(y + r * (K - 1), x + r * K, K, s, s + K);
      break;
    }
    case OpCode::CholeskyCorr:
      lp = chol_corr_fwd(y, x, static_cast<std::size_t>(op.ip[0]));
      break;
    default:
      fail("transform op ", op_label(op.code), " has no kernel");
  }
  c.target += lp;
}

void transform_backward(const Op& op, Ctx& c) {
  double* ya = c.a(op.in[0]);
  if (!ya) return;
  const double* y = c.v(op.in[0]);
  const double* x = c.v(op.out);
  const double* xa = c.a(op.out);
  const std::size_t n = c.n(op.in[0]);
  switch (op.code) {
    case OpCode::LowerBound:
      for (std::size_t i = 0; i < n; ++i) ya[i] += xa[i] * (x[i] - op.dp[0]) + 1.0;
      return;
    case OpCode::UpperBound:
      for (std::size_t i = 0; i < n; ++i) ya[i] += -xa[i] * (op.dp[0] - x[i]) + 1.0;
      return;
    case OpCode::Interval: {
      const double w = op.dp[1] - op.dp[0];
      for (std::size_t i = 0; i < n; ++i) {
        const double s = inv_logit(y[i]);
        ya[i] += xa[i] * w * s * (1.0 - s) + 1.0 - 2.0 * s;
      }
      return;
    }
    case OpCode::Ordered: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      for (std::size_t r = 0; r < b; ++r) {
        double tail = 0.0;  // sum of output adjoints from k onwards
        for (std::size_t k = K; k-- > 1;) {
          tail += xa[r * K + k];
          ya[r * K + k] += tail * std::exp(y[r * K + k]) + 1.0;
        }
        ya[r * K] += tail + xa[r * K];
      }
      return;
    }
    case OpCode::SumToZero: {
      const std::size_t b = op.ip[0], K = op.ip[1], N = K - 1;
      for (std::size_t r = 0; r < b; ++r) {
        const double* g = xa + r * K;
        double prefix = 0.0;  // sum of g[0..i-1]
        for (std::size_t i = 1; i <= N; ++i) {
          prefix += g[i - 1];
          const double d = static_cast<double>(i);
          ya[r * N + i - 1] += (prefix - d * g[i]) / std::sqrt(d * (d + 1.0));
        }
      }
      return;
    }
    case OpCode::Simplex: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      double* s = c.ws.scratch.data();
      double* z = s + K;
      for (std::size_t r = 0; r < b; ++r) {
        const double* yr = y + r * (K - 1);
        const double* g = xa + r * K;
        double stick = 1.0;
        for (std::size_t k = 0; k + 1 < K; ++k) {
          s[k] = stick;
          z[k] = inv_logit(yr[k] - std::log(static_cast<double>(K - 1 - k)));
          stick -= stick * z[k];
        }
        double gs = g[K - 1];  // adjoint of the stick after step k
        for (std::size_t k = K - 1; k-- > 0;) {
          const double sk = s[k], zk = z[k];
          double adj_s = gs * (1.0 - zk) + g[k] * zk + 1.0 / sk;
          const double adj_z = -gs * sk + g[k] * sk;
          ya[r * (K - 1) + k] += adj_z * zk * (1.0 - zk) + 1.0 - 2.0 * zk;
          gs = adj_s;
        }
      }
      return;
    }
    case OpCode::CholeskyCorr: {
      const std::size_t K = op.ip[0];
      double* rr = c.ws.scratch.data();
      for (std::size_t i = 1; i < K; ++i) {
        const std::size_t k0 = i * (i - 1) / 2;
        double ss = 0.0;
        for (std::size_t j = 0; j < i; ++j) {
          rr[j] = std::sqrt(1.0 - ss);
          const double L = x[i * K + j];
          ss += L * L;
        }
        const double rii = x[i * K + i];
        double adj_ss = rii > 0 ? xa[i * K + i] * (-0.5 / rii) : 0.0;
        for (std::size_t j = i; j-- > 0;) {
          const double L = x[i * K + j];
          const double z = std::tanh(y[k0 + j]);
          const double adj_L = xa[i * K + j] + adj_ss * 2.0 * L;
          double adj_z;
          if (j >= 1) {
            adj_z = adj_L * rr[j];
            const double adj_r = adj_L * z + 1.0 / rr[j];
            adj_ss += adj_r * (-0.5 / rr[j]);
          } else {
            adj_z = adj_L;
          }
          adj_z += -2.0 * z / (1.0 - z * z);
          ya[k0 + j] += adj_z * (1.0 - z * z);
        }
      }
      return;
    }
    default:
      fail("transform op ", op_label(op.code), " has no adjoint");
  }
}

}  // namespace brr::ad
