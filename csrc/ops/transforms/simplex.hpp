// Simplex: Stan's stick-breaking transform, rows of K values on the simplex from K - 1 free values each;
// log|J| summed row by row. The stick lengths s and break fractions z of a row go to the two work
// buffers (ShapeCheck::work), where the adjoint, which recomputes them, needs them in reverse.
#pragma once
#include <cmath>

#include "common/scalar_math.hpp"
#include "ops/transforms/vector_rows.hpp"

namespace brr::ops {

// row r of lane b: writes its K outputs, returns its log|J|. Called once per (row, lane) by chain_sum.
struct SimplexRow {
  const double* y;
  double *x, *s, *z;
  std::size_t K, B;
  BRR_HD double operator()(std::size_t r, std::size_t b) const {
    const In yr{y + row_at(r, b, K - 1, B), B};
    const std::size_t at = row_at(r, b, K, B);
    const Out xr{x + at, B}, sr{s + at, B}, zr{z + at, B};
    double stick = 1.0, lp = 0.0;
    for (std::size_t k = 0; k + 1 < K; ++k) {
      const double u = yr[k] - std::log(static_cast<double>(K - 1 - k));
      sr[k] = stick;
      zr[k] = inv_logit(u);
      xr[k] = stick * zr[k];
      lp += std::log(stick) + log_inv_logit(u) + log1m_inv_logit(u);
      stick -= xr[k];
    }
    xr[K - 1] = stick;
    return lp;
  }
};

// items: row r of lane b, k = r * B + b; ya += d/dy of (xa . x + log|J|)
struct SimplexRowsBack {
  const double *y, *xa;
  double *ya, *s, *z;
  std::size_t K, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      const std::size_t r = k / B, b = k % B, at = row_at(r, b, K, B), yat = row_at(r, b, K - 1, B);
      const In yr{y + yat, B}, g{xa + at, B};
      const Out yar{ya + yat, B}, sr{s + at, B}, zr{z + at, B};
      double stick = 1.0;
      for (std::size_t j = 0; j + 1 < K; ++j) {
        sr[j] = stick;
        zr[j] = inv_logit(yr[j] - std::log(static_cast<double>(K - 1 - j)));
        stick -= stick * zr[j];
      }
      double gs = g[K - 1];  // adjoint of the stick after step j
      for (std::size_t j = K - 1; j-- > 0;) {
        const double sj = sr[j], zj = zr[j];
        const double adj_s = gs * (1.0 - zj) + g[j] * zj + 1.0 / sj;
        const double adj_z = -gs * sj + g[j] * sj;
        yar[j] += adj_z * zj * (1.0 - zj) + 1.0 - 2.0 * zj;
        gs = adj_s;
      }
    }
  }
};

struct Simplex {
  static void check_shape(const ShapeCheck& c) { check_vector_rows(c, 1, c.out()); }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const VectorRows v(op);
    const std::size_t n = v.rows * v.K;
    double *s = x.work(n, 0), *z = x.work(n, 1);
    x.chain_sum(v.rows, SimplexRow{x.v(op.in[0]), x.out(op.out), s, z, v.K, x.lanes()}, x.target());
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double* ya = x.a(op.in[0]);
    if (!ya) return;
    const VectorRows v(op);
    const std::size_t n = v.rows * v.K;
    double *s = x.work(n, 0), *z = x.work(n, 1);
    x.items(v.rows * x.lanes(), SimplexRowsBack{x.v(op.in[0]), x.a(op.out), ya, s, z, v.K, x.lanes()});
  }
};

}  // namespace brr::ops
