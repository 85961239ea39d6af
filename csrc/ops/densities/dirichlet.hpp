// DirichletLpdf: b rows of K, x ~ Dirichlet(alpha), either input data or parameters (lane-varying);
// integer parameters (b, K). One row of one lane per item, its terms added to the lane's running sum
// (chain_acc); -inf at a point outside the support, where the partials are not read. The partials of x and
// alpha are added going forward.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/scalar_math.hpp"
#include "common/view.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

// one Dirichlet row of K: its terms added to lp, the partials to xa and aa where not empty
BRR_HD inline void dirichlet_row(In x, In al, std::size_t K, double& lp, Out xa, Out aa) {
  double sa = 0.0;
  for (std::size_t k = 0; k < K; ++k) {
    const double a = al[k], xi = x[k];
    if (!(a > 0) || !(xi > 0)) {
      lp = -HUGE_VAL;
      return;
    }
    sa += a;
    lp += (a - 1.0) * std::log(xi) - std::lgamma(a);
  }
  lp += std::lgamma(sa);
  const double dsa = digamma(sa);
  for (std::size_t k = 0; k < K; ++k) {
    if (xa) xa[k] += (al[k] - 1.0) / x[k];
    if (aa) aa[k] += dsa - digamma(al[k]) + std::log(x[k]);
  }
}

struct DirichletRow {  // row r of lane b
  LaneArg x, al;
  double *xa, *aa;  // nullptr without gradient
  std::size_t K, B;
  BRR_HD void operator()(std::size_t r, std::size_t b, double& lp) const {
    dirichlet_row(view(x, b).at(r * K), view(al, b).at(r * K), K, lp, lane(xa, b, B).at(r * K),
                  lane(aa, b, B).at(r * K));
  }
};

struct DirichletLpdf {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(2);
    const std::size_t b = static_cast<std::size_t>(c.op.ip[0]), K = static_cast<std::size_t>(c.op.ip[1]);
    c.eq(c.in(0), b * K, "x");
    c.eq(c.in(1), b * K, "alpha");
  }
  static bool on_lanes(const Op&, const Program&) { return true; }  // either input read in place when data
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t b = static_cast<std::size_t>(op.ip[0]), K = static_cast<std::size_t>(op.ip[1]);
    x.chain_acc(b, DirichletRow{lane_arg(x, op.in[0], b * K), lane_arg(x, op.in[1], b * K), x.a(op.in[0]),
                                x.a(op.in[1]), K, x.lanes()},
                0.0, x.target());
  }
  template <class X>
  static void backward(const Op&, X&) {}  // its partials were added going forward
};

}  // namespace brr::ops
