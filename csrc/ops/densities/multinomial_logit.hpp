// MultinomialLogitLpmf: b rows of K counts (data, checked in Python) and K logits each; integer parameters
// (b, K), the multinomial coefficient a data constant (dp[0]). One row of one lane per item, its terms
// added to the lane's running sum in category order (chain_acc); the logits' partials are added going forward.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/view.hpp"
#include "ops/densities/categorical_logit.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

// one multinomial-logit row of K counts: each count's cnt (logit - lse) added to lp in category order,
// the logit adjoints to ga when ga is not empty (the multinomial coefficient is the caller's)
BRR_HD inline void multinomial_row(In cnt, In lg, std::size_t K, double& lp, Out ga) {
  const double l = logits_lse(lg, K);
  double n = 0.0;
  for (std::size_t k = 0; k < K; ++k) {
    n += cnt[k];
    if (cnt[k] > 0) lp += cnt[k] * (lg[k] - l);
  }
  if (ga)
    for (std::size_t k = 0; k < K; ++k) ga[k] += cnt[k] - n * std::exp(lg[k] - l);
}

struct MultinomialRow {  // row r of lane b
  const double* y;
  LaneArg lg;
  double* ga;  // nullptr without gradient
  std::size_t K, B;
  BRR_HD void operator()(std::size_t r, std::size_t b, double& lp) const {
    if (B == 1)  // the scalar executor: contiguous rows, a stride the compiler sees (4-6% on its kernel)
      multinomial_row(In{y + r * K}, In{lg.p + r * K}, K, lp, ga ? Out{ga + r * K} : Out{});
    else
      multinomial_row(In{y + r * K}, view(lg, b).at(r * K), K, lp, lane(ga, b, B).at(r * K));
  }
};

struct MultinomialLogitLpmf {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(2);
    const std::size_t b = static_cast<std::size_t>(c.op.ip[0]), K = static_cast<std::size_t>(c.op.ip[1]);
    c.eq(c.in(0), b * K, "counts");
    c.eq(c.in(1), b * K, "logits");
  }
  static bool on_lanes(const Op& op, const Program& p) { return !varies(op, p, 0); }  // counts are data
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t b = static_cast<std::size_t>(op.ip[0]), K = static_cast<std::size_t>(op.ip[1]);
    x.chain_acc(b, MultinomialRow{x.v(op.in[0]), lane_arg(x, op.in[1], b * K), x.a(op.in[1]), K, x.lanes()},
                op.dp.empty() ? 0.0 : op.dp[0], x.target());
  }
  template <class X>
  static void backward(const Op&, X&) {}  // its partials were added going forward
};

}  // namespace brr::ops
