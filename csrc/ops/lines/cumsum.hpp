// CumSum: cumulative sums along an axis. out[l] = a[0] + ... + a[l] along each line; the adjoint is the
// reverse cumulative sum of the output's adjoint, added into the input's.
#pragma once
#include "ops/lines/lines.hpp"

namespace brr::ops {

// lines [first, first + count): a serial chain of adds each, the chains of a block side by side;
// reverse: sums from the line's end, added into o
struct CumSumRows {
  const double* a;
  double* o;
  Lines ln;
  bool reverse;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    double acc[kBlock] = {};
    std::size_t at[kBlock];
    for (std::size_t q = 0; q < count; ++q) at[q] = ln.start(first + q);
    for (std::size_t s = 0; s < ln.len; ++s) {
      const std::size_t l = (reverse ? ln.len - 1 - s : s) * ln.width;
      for (std::size_t q = 0; q < count; ++q) {
        acc[q] += a[at[q] + l];
        if (reverse) o[at[q] + l] += acc[q];
        else o[at[q] + l] = acc[q];
      }
    }
  }
};

struct CumSum {
  static void check_shape(const ShapeCheck& c) { check_lines(c, false); }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const Axis ax(op);
    x.items(ax.lines(x.lanes()), CumSumRows{x.v(op.in[0]), x.out(op.out), ax.layout(x.lanes()), false});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    const Axis ax(op);
    if (double* aa = x.a(op.in[0])) x.items(ax.lines(x.lanes()), CumSumRows{x.a(op.out), aa, ax.layout(x.lanes()), true});
  }
};

}  // namespace brr::ops
