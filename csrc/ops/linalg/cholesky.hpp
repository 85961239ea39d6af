// Cholesky: L = chol(A) of a K x K matrix (row-major, its lower triangle read), NaN when A is not
// positive definite (a rejection); the adjoint by Murray's (2016) unblocked reverse sweep. One lane per item.
#pragma once
#include "ops/linalg/linalg_rows.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

struct CholeskyLanes {
  LaneArg A;
  double* L;
  std::size_t K, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t b = first; b < first + count; ++b) linalg::cholesky(K, view(A, b), lane(L, b, B));
  }
};

struct CholeskyLanesBack {  // F: K x K working values per lane
  const double *L, *Lbar;
  double *F, *Abar;
  std::size_t K, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t b = first; b < first + count; ++b)
      linalg::cholesky_back(K, In{L + b, B}, In{Lbar + b, B}, lane(F, b, B), lane(Abar, b, B));
  }
};

struct Cholesky {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(1);
    const std::size_t K = static_cast<std::size_t>(c.op.ip[0]);
    c.eq(c.in(0), K * K, "matrix");
    c.eq(c.out(), K * K, "output");
    c.work(K * K);
  }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t K = static_cast<std::size_t>(op.ip[0]);
    x.items(x.lanes(), CholeskyLanes{lane_arg(x, op.in[0], K * K), x.out(op.out), K, x.lanes()});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double* Abar = x.a(op.in[0]);
    if (!Abar) return;
    const std::size_t K = static_cast<std::size_t>(op.ip[0]);
    x.items(x.lanes(), CholeskyLanesBack{x.v(op.out), x.a(op.out), x.work(K * K, 0), Abar, K, x.lanes()});
  }
};

}  // namespace brr::ops
