// CategoricalLogitLpmf: b rows of K logits and the observed category of each (data, checked in Python;
// a category out of range gives -inf, never an index out of range), with an optional constant weight per
// row (merged rows' counts); integer parameters (b, K). One row of one lane per item, its log density
// summed by chain_sum; the logits' partials are added going forward.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/view.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

// log-sum-exp of logits x[0 .. K): the maximum itself when it is not finite (LogSumExp shifts by 0 then)
BRR_HD inline double logits_lse(In x, std::size_t K) {
  double m = -HUGE_VAL;
  for (std::size_t k = 0; k < K; ++k) m = m < x[k] ? x[k] : m;
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (std::size_t k = 0; k < K; ++k) s += std::exp(x[k] - m);
  return m + std::log(s);
}

// one categorical-logit row of K logits, category cat (checked by the caller), weight w: returns
// w (logit[cat] - lse) and adds its logit adjoints to ga when ga is not empty
BRR_HD inline double categorical_row(In lg, std::size_t K, std::size_t cat, double w, Out ga) {
  const double l = logits_lse(lg, K);
  if (ga) {
    for (std::size_t k = 0; k < K; ++k) ga[k] -= w * std::exp(lg[k] - l);
    ga[cat] += w;
  }
  return w * (lg[cat] - l);
}

struct CategoricalRow {  // row r of lane b
  const double *y, *w;  // w: row weights, or nullptr
  LaneArg lg;
  double* ga;  // nullptr without gradient
  std::size_t K, B;
  BRR_HD double operator()(std::size_t r, std::size_t b) const {
    const double yr = y[r];
    if (!(yr >= 0 && yr < static_cast<double>(K))) return -HUGE_VAL;
    return categorical_row(view(lg, b).at(r * K), K, static_cast<std::size_t>(yr), w ? w[r] : 1.0, lane(ga, b, B).at(r * K));
  }
};

struct CategoricalLogitLpmf {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(2);
    const std::size_t b = static_cast<std::size_t>(c.op.ip[0]), K = static_cast<std::size_t>(c.op.ip[1]);
    c.eq(c.in(0), b, "categories");
    c.eq(c.in(1), b * K, "logits");
    if (c.op.in.size() == 3) {
      c.eq(c.in(2), b, "row weights");
      if (!c.sv.is_const(c.op.in[2])) fail("density ", c.code(), ": row weights must be a constant");
    }
  }
  static bool on_lanes(const Op& op, const Program& p) { return !varies(op, p, 0); }  // categories are data
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t b = static_cast<std::size_t>(op.ip[0]), K = static_cast<std::size_t>(op.ip[1]);
    x.chain_sum(b, CategoricalRow{x.v(op.in[0]), op.in.size() > 2 ? x.v(op.in[2]) : nullptr, lane_arg(x, op.in[1], b * K),
                                  x.a(op.in[1]), K, x.lanes()},
                x.target());
  }
  template <class X>
  static void backward(const Op&, X&) {}  // its partials were added going forward
};

}  // namespace brr::ops
