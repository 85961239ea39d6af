// TriSolve: X = L^{-1} B for a lower-triangular K x K factor L and a K x m right-hand side (row-major),
// by forward substitution; either input may be data. One lane per item.
#pragma once
#include "ops/linalg/linalg_rows.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

struct TriSolveLanes {
  LaneArg L, Bm;
  double* X;
  std::size_t K, m, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t b = first; b < first + count; ++b) linalg::trisolve(K, m, view(L, b), view(Bm, b), lane(X, b, B));
  }
};

struct TriSolveLanesBack {  // G: K x m working values per lane; Lbar, Bbar may be null (not needed)
  LaneArg L;
  const double *X, *Xbar;
  double *G, *Lbar, *Bbar;
  std::size_t K, m, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t b = first; b < first + count; ++b)
      linalg::trisolve_back(K, m, view(L, b), In{X + b, B}, In{Xbar + b, B}, lane(G, b, B), lane(Lbar, b, B),
                            lane(Bbar, b, B));
  }
};

struct TriSolve {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(2);
    const std::size_t K = static_cast<std::size_t>(c.op.ip[0]), m = static_cast<std::size_t>(c.op.ip[1]);
    c.eq(c.in(0), K * K, "triangular factor");
    c.eq(c.in(1), K * m, "right-hand side");
    c.eq(c.out(), K * m, "output");
    c.work(K * m);
  }
  static bool on_lanes(const Op&, const Program&) { return true; }  // data inputs are read in place
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t K = static_cast<std::size_t>(op.ip[0]), m = static_cast<std::size_t>(op.ip[1]);
    x.items(x.lanes(), TriSolveLanes{lane_arg(x, op.in[0], K * K), lane_arg(x, op.in[1], K * m), x.out(op.out), K, m,
                                     x.lanes()});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double *La = x.a(op.in[0]), *Ba = x.a(op.in[1]);
    if (!La && !Ba) return;
    const std::size_t K = static_cast<std::size_t>(op.ip[0]), m = static_cast<std::size_t>(op.ip[1]);
    x.items(x.lanes(), TriSolveLanesBack{lane_arg(x, op.in[0], K * K), x.v(op.out), x.a(op.out), x.work(K * m, 0), La,
                                         Ba, K, m, x.lanes()});
  }
};

}  // namespace brr::ops
