// Sum (out = the sum of the input's elements) and TargetAdd (the model's log density += that sum): each
// lane's sum in its executor's fixed order (the CPU's four accumulators, common/reduce.hpp; the device's
// chunked reduction); the adjoint broadcasts the output's (TargetAdd's: 1) back over the elements.
#pragma once
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

struct BroadcastRows {  // aa[k] += oa[b] for element i of lane b (oa null: += 1)
  const double* oa;
  double* aa;
  std::size_t B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for_element_lanes(first, count, B, [&](std::size_t k, std::size_t, std::size_t b) { aa[k] += oa ? oa[b] : 1.0; });
  }
};

template <bool ToTarget>
struct SumLike {
  static void check_shape(const ShapeCheck& c) {
    if (!ToTarget) c.eq(c.out(), 1, "sum output");
  }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    if (ToTarget) x.sum_slot(op.in[0], x.target(), true);
    else x.sum_slot(op.in[0], x.out(op.out), false);
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    if (double* aa = x.a(op.in[0]))
      x.items(x.n(op.in[0]) * x.lanes(), BroadcastRows{ToTarget ? nullptr : x.a(op.out), aa, x.lanes()});
  }
};

struct Sum : SumLike<false> {};
struct TargetAdd : SumLike<true> {};

}  // namespace brr::ops
