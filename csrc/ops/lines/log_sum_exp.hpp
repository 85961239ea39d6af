// LogSumExp (the axis reduced: one value per line) and Softmax (the line's shape) along an axis, with
// their adjoints: d lse / d a = softmax(a); softmax's adjoint is o * (oa - <oa, o>).
#pragma once
#include <cmath>

#include "ops/lines/lines.hpp"

namespace brr::ops {

// log-sum-exp shifted by the line's maximum (by 0 when that is not finite)
BRR_HD inline double lse(In a, std::size_t len) {
  double m = -HUGE_VAL;
  for (std::size_t l = 0; l < len; ++l) m = m < a[l] ? a[l] : m;
  if (!std::isfinite(m)) m = 0.0;
  double s = 0.0;
  for (std::size_t l = 0; l < len; ++l) s += std::exp(a[l] - m);
  return m + std::log(s);
}

// one line per item: o[k] = lse(line k), or the line's softmax
struct LseRows {
  const double* a;
  double* o;
  Lines ln;
  bool softmax;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      const double v = lse(ln.in(a, k), ln.len);
      if (!softmax) {
        o[k] = v;
        continue;
      }
      const In x = ln.in(a, k);
      const Out y = ln.out(o, k);
      for (std::size_t l = 0; l < ln.len; ++l) y[l] = std::exp(x[l] - v);
    }
  }
};

struct LseRowsBack {
  const double *a, *o, *oa;  // a: the input (log-sum-exp) or unused (softmax)
  double* aa;
  Lines ln;
  bool softmax;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) {
      const Out g = ln.out(aa, k);
      if (!softmax) {  // aa += oa * softmax(a)
        const In x = ln.in(a, k);
        for (std::size_t l = 0; l < ln.len; ++l) g[l] += oa[k] * std::exp(x[l] - o[k]);
        continue;
      }
      const In y = ln.in(o, k), ya = ln.in(oa, k);
      double dot = 0.0;
      for (std::size_t l = 0; l < ln.len; ++l) dot += ya[l] * y[l];
      for (std::size_t l = 0; l < ln.len; ++l) g[l] += y[l] * (ya[l] - dot);
    }
  }
};

template <bool Softmax>
struct LseLike {
  static void check_shape(const ShapeCheck& c) { check_lines(c, !Softmax); }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const Axis ax(op);
    x.items(ax.lines(x.lanes()), LseRows{x.v(op.in[0]), x.out(op.out), ax.layout(x.lanes()), Softmax});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    const Axis ax(op);
    if (double* aa = x.a(op.in[0]))
      x.items(ax.lines(x.lanes()), LseRowsBack{x.v(op.in[0]), x.v(op.out), x.a(op.out), aa, ax.layout(x.lanes()), Softmax});
  }
};

struct LogSumExp : LseLike<false> {};
struct Softmax : LseLike<true> {};

}  // namespace brr::ops
