// Ordered: rows of K increasing values, x[0] = y[0], x[k] = x[k-1] + exp(y[k]); log|J| = sum of y[k > 0],
// summed within each row and then over the rows (as simplex does).
#pragma once
#include <cmath>

#include "ops/transforms/vector_rows.hpp"

namespace brr::ops {

// row r of lane b: writes its K outputs, returns its log|J| (called once per (row, lane) by chain_sum)
struct OrderedRow {
  const double* y;
  double* x;
  std::size_t K, B;
  BRR_HD double operator()(std::size_t r, std::size_t b) const {
    const std::size_t at = row_at(r, b, K, B);
    const In yr{y + at, B};
    const Out xr{x + at, B};
    double lp = 0.0;
    xr[0] = yr[0];
    for (std::size_t j = 1; j < K; ++j) {
      xr[j] = xr[j - 1] + std::exp(yr[j]);
      lp += yr[j];
    }
    return lp;
  }
};

struct OrderedRowsBack {
  const double *y, *xa;
  double* ya;
  std::size_t K, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      const std::size_t at = row_at(k / B, k % B, K, B);
      const In yr{y + at, B}, xar{xa + at, B};
      const Out yar{ya + at, B};
      double tail = 0.0;  // sum of output adjoints from j onwards
      for (std::size_t j = K; j-- > 1;) {
        tail += xar[j];
        yar[j] += tail * std::exp(yr[j]) + 1.0;
      }
      yar[0] += tail + xar[0];
    }
  }
};

struct Ordered {
  static void check_shape(const ShapeCheck& c) { check_vector_rows(c, 0, 0); }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const VectorRows v(op);
    x.chain_sum(v.rows, OrderedRow{x.v(op.in[0]), x.out(op.out), v.K, x.lanes()}, x.target());
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double* ya = x.a(op.in[0]);
    if (!ya) return;
    const VectorRows v(op);
    x.items(v.rows * x.lanes(), OrderedRowsBack{x.v(op.in[0]), x.a(op.out), ya, v.K, x.lanes()});
  }
};

}  // namespace brr::ops
