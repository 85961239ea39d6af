// Constraining transforms: out = T(y) and target += log|det J|, gradients of both in the backward pass.
#include <cmath>

#include "ad/kernels.hpp"
#include "ad/scalar_math.hpp"
#include "transform/transform_rows.hpp"
#include "common/errors.hpp"

namespace brr::ad {

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
      for (std::size_t r = 0; r < b; ++r) lp += rows::simplex(In{y + r * (K - 1)}, Out{x + r * K}, K, Out{s}, Out{s + K});
      break;
    }
    case OpCode::CholeskyCorr:
      lp = rows::chol_corr(In{y}, Out{x}, static_cast<std::size_t>(op.ip[0]));
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
      for (std::size_t r = 0; r < b; ++r)
        rows::simplex_back(In{y + r * (K - 1)}, In{xa + r * K}, Out{ya + r * (K - 1)}, K, Out{s}, Out{s + K});
      return;
    }
    case OpCode::CholeskyCorr:
      rows::chol_corr_back(In{y}, In{x}, In{xa}, Out{ya}, static_cast<std::size_t>(op.ip[0]), Out{c.ws.scratch.data()});
      return;
    default:
      fail("transform op ", op_label(op.code), " has no adjoint");
  }
}

}  // namespace brr::ad
