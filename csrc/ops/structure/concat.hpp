// Concat: out = [a0, a1, ...] of the flat inputs; each input's adjoint is its block of the output's.
// Inputs may be data (read in place by every lane).
#pragma once
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

struct CopyRows {  // o[k] = element i of lane b of one input, k = i * B + b
  LaneArg a;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for_element_lanes(first, count, B, [&](std::size_t k, std::size_t i, std::size_t b) { o[k] = a.at(i, b); });
  }
};

struct AddRows {  // dst[k] += src[k]
  const double* src;
  double* dst;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) dst[k] += src[k];
  }
};

struct Concat {
  static void check_shape(const ShapeCheck& c) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < c.op.in.size(); ++i) total += c.in(static_cast<int>(i));
    c.eq(c.out(), total, "concat output");
  }
  static bool on_lanes(const Op&, const Program&) { return true; }
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t B = x.lanes();
    double* o = x.out(op.out);
    for (int s : op.in) {
      x.items(x.n(s) * B, CopyRows{lane_arg(x, s, x.n(s)), o, B});
      o += x.n(s) * B;
    }
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    const std::size_t B = x.lanes();
    const double* oa = x.a(op.out);
    for (int s : op.in) {
      if (double* sa = x.a(s)) x.items(x.n(s) * B, AddRows{oa, sa});
      oa += x.n(s) * B;
    }
  }
};

}  // namespace brr::ops
