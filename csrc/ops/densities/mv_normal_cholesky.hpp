// MvNormalCholeskyLpdf: b rows x ~ N(mu, L L^T) with L a lower-triangular K x K Cholesky factor (row-major),
// integer parameters (b, K); any input may be data. One lane per item, all its rows in order (the factor's
// adjoint sums over them); the partials are added going forward, as every density's are.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/scalar_math.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

// b rows x ~ N(mu, L L^T), L lower-triangular row-major; w = L^{-1}(x - mu), u = L^{-T} w (K each).
BRR_HD inline double mvnormal_cholesky(std::size_t b, std::size_t K, In x, In mu, In L, Out xa, Out ma, Out La,
                                       Out w, Out u) {
  double logdet = 0.0;
  for (std::size_t i = 0; i < K; ++i) {
    if (!(L[i * K + i] > 0)) return -HUGE_VAL;
    logdet += std::log(L[i * K + i]);
  }
  double lp = -static_cast<double>(b) * (static_cast<double>(K) * kLogSqrt2Pi + logdet);
  for (std::size_t r = 0; r < b; ++r) {
    for (std::size_t i = 0; i < K; ++i) {
      double s = x[r * K + i] - mu[r * K + i];
      for (std::size_t j = 0; j < i; ++j) s -= L[i * K + j] * w[j];
      w[i] = s / L[i * K + i];
      lp -= 0.5 * w[i] * w[i];
    }
    if (!(xa || ma || La)) continue;
    for (std::size_t i = K; i-- > 0;) {
      double s = w[i];
      for (std::size_t j = i + 1; j < K; ++j) s -= L[j * K + i] * u[j];
      u[i] = s / L[i * K + i];
    }
    for (std::size_t i = 0; i < K; ++i) {
      if (xa) xa[r * K + i] -= u[i];
      if (ma) ma[r * K + i] += u[i];
    }
    if (La)
      for (std::size_t i = 0; i < K; ++i)
        for (std::size_t j = 0; j <= i; ++j) La[i * K + j] += u[i] * w[j];
  }
  if (La)
    for (std::size_t i = 0; i < K; ++i) La[i * K + i] -= static_cast<double>(b) / L[i * K + i];
  return lp;
}

struct MvNormalLane {  // lane b's log density (the one element of chain_sum's sum); w, u: K work values
  LaneArg x, mu, L;
  double *xa, *ma, *La, *w, *u;
  std::size_t rows, K, B;
  BRR_HD double operator()(std::size_t, std::size_t b) const {
    return mvnormal_cholesky(rows, K, view(x, b), view(mu, b), view(L, b), lane(xa, b, B), lane(ma, b, B),
                             lane(La, b, B), Out{w + b, B}, Out{u + b, B});
  }
};

struct MvNormalCholeskyLpdf {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(2);
    const std::size_t b = static_cast<std::size_t>(c.op.ip[0]), K = static_cast<std::size_t>(c.op.ip[1]);
    c.eq(c.in(0), b * K, "x");
    c.eq(c.in(1), b * K, "mu");
    c.eq(c.in(2), K * K, "cholesky factor");
    c.work(K);
  }
  static bool on_lanes(const Op&, const Program&) { return true; }  // data inputs are read in place
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t b = static_cast<std::size_t>(op.ip[0]), K = static_cast<std::size_t>(op.ip[1]);
    x.chain_sum(1, MvNormalLane{lane_arg(x, op.in[0], b * K), lane_arg(x, op.in[1], b * K), lane_arg(x, op.in[2], K * K),
                                x.a(op.in[0]), x.a(op.in[1]), x.a(op.in[2]), x.work(K, 0), x.work(K, 1), b, K,
                                x.lanes()},
                x.target());
  }
  template <class X>
  static void backward(const Op&, X&) {}  // its partials were added going forward
};

}  // namespace brr::ops
