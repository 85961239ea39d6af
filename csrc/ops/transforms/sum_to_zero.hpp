// SumToZero: rows of K values summing to zero from K - 1 free values, through an orthonormal basis of
// the zero-sum subspace (an isometry: log|J| = 0).
#pragma once
#include <cmath>

#include "ops/transforms/vector_rows.hpp"

namespace brr::ops {

// items: row r of lane b, k = r * B + b
struct SumToZeroRows {
  const double* y;
  double* x;
  std::size_t K, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      const In yr{y + row_at(k / B, k % B, K - 1, B), B};
      const Out xr{x + row_at(k / B, k % B, K, B), B};
      for (std::size_t j = 0; j < K; ++j) xr[j] = 0.0;
      double sum_w = 0.0;
      for (std::size_t i = K - 1; i > 0; --i) {
        const double d = static_cast<double>(i);
        const double w = yr[i - 1] / std::sqrt(d * (d + 1.0));
        sum_w += w;
        xr[i - 1] += sum_w;
        xr[i] -= w * d;
      }
    }
  }
};

struct SumToZeroRowsBack {
  const double* xa;
  double* ya;
  std::size_t K, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      const In g{xa + row_at(k / B, k % B, K, B), B};
      const Out yar{ya + row_at(k / B, k % B, K - 1, B), B};
      double prefix = 0.0;  // sum of g[0..i-1]
      for (std::size_t i = 1; i < K; ++i) {
        prefix += g[i - 1];
        const double d = static_cast<double>(i);
        yar[i - 1] += (prefix - d * g[i]) / std::sqrt(d * (d + 1.0));
      }
    }
  }
};

struct SumToZero {
  static void check_shape(const ShapeCheck& c) { check_vector_rows(c, 1, 0); }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const VectorRows v(op);
    x.items(v.rows * x.lanes(), SumToZeroRows{x.v(op.in[0]), x.out(op.out), v.K, x.lanes()});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double* ya = x.a(op.in[0]);
    if (!ya) return;
    const VectorRows v(op);
    x.items(v.rows * x.lanes(), SumToZeroRowsBack{x.a(op.out), ya, v.K, x.lanes()});
  }
};

}  // namespace brr::ops
