// The vector transforms of transforms.cpp (ordered, sum-to-zero, simplex, Cholesky factor of a correlation matrix) over
// strided views, written once for the CPU kernels (stride 1) and the device kernels (stride B).
#pragma once
#include <cmath>
#include <cstddef>

#include "common/scalar_math.hpp"
#include "common/hd.hpp"
#include "common/view.hpp"

namespace brr::ad::rows {

// one ordered row of K: x[0] = y[0], x[k] = x[k-1] + exp(y[k]); its log|J| terms y[k > 0] added to lp in order
BRR_HD inline void ordered(In y, Out x, std::size_t K, double& lp) {
  x[0] = y[0];
  for (std::size_t k = 1; k < K; ++k) {
    x[k] = x[k - 1] + std::exp(y[k]);
    lp += y[k];
  }
}

BRR_HD inline void ordered_back(In y, In xa, Out ya, std::size_t K) {
  double tail = 0.0;  // sum of output adjoints from k onwards
  for (std::size_t k = K; k-- > 1;) {
    tail += xa[k];
    ya[k] += tail * std::exp(y[k]) + 1.0;
  }
  ya[0] += tail + xa[0];
}

// one sum-to-zero row: K - 1 free values to K summing to zero (an isometry: log|J| = 0)
BRR_HD inline void sum_to_zero(In y, Out x, std::size_t K) {
  const std::size_t N = K - 1;
  for (std::size_t k = 0; k < K; ++k) x[k] = 0.0;
  double sum_w = 0.0;
  for (std::size_t i = N; i > 0; --i) {
    const double d = static_cast<double>(i);
    const double w = y[i - 1] / std::sqrt(d * (d + 1.0));
    sum_w += w;
    x[i - 1] += sum_w;
    x[i] -= w * d;
  }
}

BRR_HD inline void sum_to_zero_back(In g, Out ya, std::size_t K) {
  double prefix = 0.0;  // sum of g[0..i-1]
  for (std::size_t i = 1; i < K; ++i) {
    prefix += g[i - 1];
    const double d = static_cast<double>(i);
    ya[i - 1] += (prefix - d * g[i]) / std::sqrt(d * (d + 1.0));
  }
}

// Stan's stick-breaking simplex, one vector of K outputs from K-1 inputs; returns log|J|. s, z: K each.
BRR_HD inline double simplex(In y, Out x, std::size_t K, Out s, Out z) {
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

// its adjoint: g = d/dx, ya += d/dy of (g . x + log|J|); s, z: K each, recomputed
BRR_HD inline void simplex_back(In y, In g, Out ya, std::size_t K, Out s, Out z) {
  double stick = 1.0;
  for (std::size_t k = 0; k + 1 < K; ++k) {
    s[k] = stick;
    z[k] = inv_logit(y[k] - std::log(static_cast<double>(K - 1 - k)));
    stick -= stick * z[k];
  }
  double gs = g[K - 1];  // adjoint of the stick after step k
  for (std::size_t k = K - 1; k-- > 0;) {
    const double sk = s[k], zk = z[k];
    const double adj_s = gs * (1.0 - zk) + g[k] * zk + 1.0 / sk;
    const double adj_z = -gs * sk + g[k] * sk;
    ya[k] += adj_z * zk * (1.0 - zk) + 1.0 - 2.0 * zk;
    gs = adj_s;
  }
}

// Stan's tanh-based Cholesky factor of a correlation matrix (row-major K x K); returns log|J|.
BRR_HD inline double chol_corr(In y, Out L, std::size_t K) {
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
    const double d = 1.0 - ss;
    L[i * K + i] = std::sqrt(d > 0.0 ? d : 0.0);
  }
  return lp;
}

// its adjoint from x = L and xa = d/dL; rr: K working values
BRR_HD inline void chol_corr_back(In y, In x, In xa, Out ya, std::size_t K, Out rr) {
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
}

}  // namespace brr::ad::rows
