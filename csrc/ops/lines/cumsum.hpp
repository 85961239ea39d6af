// CumSum: cumulative sums along an axis. out[l] = a[0] + ... + a[l] along each line; the adjoint is the
// reverse cumulative sum of the output's adjoint, added into the input's.
#pragma once
#include "ops/lines/lines.hpp"

namespace brr::ops {

// lines [first, first + count): a serial chain of adds each, the chains of a block side by side;
// Reverse: sums from the line's end, added into o (the adjoint). A full block runs with its count known
// at compile time, so its accumulators stay in registers.
template <bool Reverse>
struct CumSumRows {
  const double* a;
  double* o;
  Lines ln;
  template <std::size_t N>
  BRR_HD void block(std::size_t first, std::size_t count) const {
    const std::size_t k = N ? N : count;
    double acc[kBlock] = {};
    std::size_t at[kBlock];
    for (std::size_t q = 0; q < k; ++q) at[q] = ln.start(first + q);
    for (std::size_t s = 0; s < ln.len; ++s) {
      const std::size_t l = (Reverse ? ln.len - 1 - s : s) * ln.width;
      for (std::size_t q = 0; q < k; ++q) {
        acc[q] += a[at[q] + l];
        if (Reverse) o[at[q] + l] += acc[q];
        else o[at[q] + l] = acc[q];
      }
    }
  }
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    if (count == kBlock) block<kBlock>(first, count);
    else block<0>(first, count);
  }
};

struct CumSum {
  static void check_shape(const ShapeCheck& c) { check_lines(c, false); }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const Axis ax(op);
    x.items(ax.lines(x.lanes()), CumSumRows<false>{x.v(op.in[0]), x.out(op.out), ax.layout(x.lanes())});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    const Axis ax(op);
    if (double* aa = x.a(op.in[0])) x.items(ax.lines(x.lanes()), CumSumRows<true>{x.a(op.out), aa, ax.layout(x.lanes())});
  }
};

}  // namespace brr::ops
