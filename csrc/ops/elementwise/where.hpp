// Where: out = cond != 0 ? a : b, elementwise (inputs of the output's size, or size 1 broadcast); the
// gradient flows to the chosen branch only (cond has none). As with JAX's where, a branch that is not
// chosen must still be finite where it is computed: 0 * inf is NaN in its own adjoint.
#pragma once
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

// items: element i of lane b, k = i * B + b
struct WhereRows {
  LaneArg c, x, y;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for_element_lanes(first, count, B, [&](std::size_t k, std::size_t i, std::size_t b) {
      o[k] = c.at(i, b) != 0.0 ? x.at(i, b) : y.at(i, b);
    });
  }
};

struct WhereRowsBack {  // xa, ya: full-size adjoints, or nullptr
  LaneArg c;
  const double* oa;
  double *xa, *ya;
  std::size_t B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for_element_lanes(first, count, B, [&](std::size_t k, std::size_t i, std::size_t b) {
      double* to = c.at(i, b) != 0.0 ? xa : ya;
      if (to) to[k] += oa[k];
    });
  }
};

struct Where {
  static void check_shape(const ShapeCheck& c) {
    for (int k = 0; k < 3; ++k)
      if (c.in(k) != 1 && c.in(k) != c.out())
        fail("op ", c.code(), ": input ", k, " has size ", c.in(k), ", expected 1 or ", c.out());
    if (c.in(1) != c.out() || c.in(2) != c.out())
      fail("op ", c.code(), ": the branches must have the output's size ", c.out(), " (broadcast them first)");
  }
  static bool on_lanes(const Op&, const Program&) { return true; }  // data inputs are read in place
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t n = x.n(op.out);
    x.items(n * x.lanes(), WhereRows{lane_arg(x, op.in[0], n), lane_arg(x, op.in[1], n), lane_arg(x, op.in[2], n),
                                     x.out(op.out), x.lanes()});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double *xa = x.a(op.in[1]), *ya = x.a(op.in[2]);
    if (!xa && !ya) return;
    const std::size_t n = x.n(op.out);
    x.items(n * x.lanes(), WhereRowsBack{lane_arg(x, op.in[0], n), x.a(op.out), xa, ya, x.lanes()});
  }
};

}  // namespace brr::ops
