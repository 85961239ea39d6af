// LowerBound, UpperBound, Interval: x = T(y) elementwise from a bound or two (data: op.dp), and
// target += log|dx/dy| summed over the elements.
//   lower:    x = lo + exp(y)                     log|J| = y
//   upper:    x = hi - exp(y)                     log|J| = y
//   interval: x = lo + (hi - lo) inv_logit(y)     log|J| = log(hi - lo) + log inv_logit(y) + log(1 - inv_logit(y))
// (Bounds that differ per element or depend on parameters are written as expressions in Python:
// transforms.DataBounds, ParamBounds.)
#pragma once
#include <cmath>

#include "common/scalar_math.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

enum class BoundKind { Lower, Upper, Interval };

// items: element i of lane b, k = i * B + b
template <BoundKind K>
struct BoundRows {
  const double* y;
  double* x;
  double lo, hi;  // upper: hi is the bound
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      if (K == BoundKind::Lower) x[k] = lo + std::exp(y[k]);
      else if (K == BoundKind::Upper) x[k] = hi - std::exp(y[k]);
      else x[k] = lo + (hi - lo) * inv_logit(y[k]);
    }
  }
};

template <BoundKind K>
struct BoundLogJ {  // element i of lane b's log|J|
  const double* y;
  std::size_t B;
  double lw;  // interval: log(hi - lo)
  BRR_HD double operator()(std::size_t i, std::size_t b) const {
    const double v = y[i * B + b];
    if (K == BoundKind::Interval) return lw + log_inv_logit(v) + log1m_inv_logit(v);
    return v;
  }
};

template <BoundKind K>
struct BoundRowsBack {
  const double *y, *x, *xa;
  double* ya;
  double lo, hi;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      if (K == BoundKind::Lower) {
        ya[k] += xa[k] * (x[k] - lo) + 1.0;
      } else if (K == BoundKind::Upper) {
        ya[k] += -xa[k] * (hi - x[k]) + 1.0;
      } else {
        const double s = inv_logit(y[k]);
        ya[k] += xa[k] * (hi - lo) * s * (1.0 - s) + 1.0 - 2.0 * s;
      }
    }
  }
};

template <BoundKind K>
struct Bound {
  static void check_shape(const ShapeCheck& c) {
    c.eq(c.in(0), c.out(), "input");
    const std::size_t need = K == BoundKind::Interval ? 2 : 1;
    if (c.op.dp.size() != need) fail("op ", c.code(), ": expected ", need, " bound(s) in its real parameters, got ", c.op.dp.size());
    if (K == BoundKind::Interval && !(c.op.dp[0] < c.op.dp[1]))
      fail("op ", c.code(), ": the lower bound ", c.op.dp[0], " must be below the upper bound ", c.op.dp[1]);
  }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  static double lo(const Op& op) { return op.dp[0]; }
  static double hi(const Op& op) { return K == BoundKind::Interval ? op.dp[1] : op.dp[0]; }
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t n = x.n(op.in[0]), B = x.lanes();
    const double* y = x.v(op.in[0]);
    x.items(n * B, BoundRows<K>{y, x.out(op.out), lo(op), hi(op)});
    x.chain_sum(n, BoundLogJ<K>{y, B, K == BoundKind::Interval ? std::log(hi(op) - lo(op)) : 0.0}, x.target());
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double* ya = x.a(op.in[0]);
    if (!ya) return;
    x.items(x.n(op.in[0]) * x.lanes(), BoundRowsBack<K>{x.v(op.in[0]), x.v(op.out), x.a(op.out), ya, lo(op), hi(op)});
  }
};

struct LowerBound : Bound<BoundKind::Lower> {};
struct UpperBound : Bound<BoundKind::Upper> {};
struct Interval : Bound<BoundKind::Interval> {};

}  // namespace brr::ops
