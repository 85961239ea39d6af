// LkjCholeskyLpdf: LKJ(eta) on the Cholesky factor L of a K x K correlation matrix (row-major), integer
// parameters (1, K); eta a scalar. One lane per item; the partials are added going forward.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/scalar_math.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

// LKJ(eta) on the Cholesky factor of a K x K correlation matrix (Lewandowski et al. 2009); ea: eta's
// adjoint, nullptr for none.
BRR_HD inline double lkj_cholesky(std::size_t K, In L, double eta, Out La, double* ea) {
  if (!(eta > 0)) return -HUGE_VAL;
  double lp = 0.0, dlp_deta = 0.0;
  for (std::size_t k = 1; k < K; ++k) {  // log normalising constant, subtracted
    const double m = static_cast<double>(K - k);
    const double a = eta + 0.5 * (m - 1.0);
    lp -= (2.0 * eta - 2.0 + m) * m * kLog2 + m * (2.0 * std::lgamma(a) - std::lgamma(2.0 * a));
    dlp_deta -= 2.0 * m * kLog2 + m * (2.0 * digamma(a) - 2.0 * digamma(2.0 * a));
  }
  for (std::size_t i = 1; i < K; ++i) {
    const double Lii = L[i * K + i];
    if (!(Lii > 0)) return -HUGE_VAL;
    const double coef = static_cast<double>(K - i - 1) + 2.0 * eta - 2.0;
    lp += coef * std::log(Lii);
    dlp_deta += 2.0 * std::log(Lii);
    if (La) La[i * K + i] += coef / Lii;
  }
  if (ea) *ea += dlp_deta;
  return lp;
}

struct LkjLane {  // lane b's log density (the one element of chain_sum's sum)
  LaneArg L, eta;
  double *La, *ea;
  std::size_t K, B;
  BRR_HD double operator()(std::size_t, std::size_t b) const {
    return lkj_cholesky(K, view(L, b), eta.at(0, b), lane(La, b, B), ea ? ea + b : nullptr);
  }
};

struct LkjCholeskyLpdf {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(2);
    const std::size_t K = static_cast<std::size_t>(c.op.ip[1]);
    c.eq(c.in(0), K * K, "cholesky factor");
    c.eq(c.in(1), 1, "eta");
  }
  static bool on_lanes(const Op&, const Program&) { return true; }  // data inputs are read in place
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t K = static_cast<std::size_t>(op.ip[1]);
    x.chain_sum(1, LkjLane{lane_arg(x, op.in[0], K * K), lane_arg(x, op.in[1], 1), x.a(op.in[0]), x.a(op.in[1]), K,
                           x.lanes()},
                x.target());
  }
  template <class X>
  static void backward(const Op&, X&) {}  // its partials were added going forward
};

}  // namespace brr::ops
