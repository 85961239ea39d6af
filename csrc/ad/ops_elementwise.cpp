// The CPU scalar executor's elementwise kernels: the tables of ops/elementwise/ over arrays, size-1 inputs broadcast.
#include <cmath>

#include "ad/kernels.hpp"
#include "common/scalar_math.hpp"
#include "common/errors.hpp"
#include "common/reduce.hpp"
#include "common/strides.hpp"
#include "ops/elementwise/binary.hpp"
#include "ops/elementwise/unary.hpp"

namespace brr::ad {

void unary_forward(const Op& op, Ctx& c) { ops::unary_map(op.code, c.v(op.in[0]), c.out(op.out), c.n(op.out)); }

void unary_backward(const Op& op, Ctx& c) {
  double* aa = c.a(op.in[0]);
  if (!aa) return;
  ops::unary_back(op.code, c.v(op.in[0]), c.v(op.out), c.a(op.out), aa, c.n(op.out));
}

namespace {

template <class F>
inline void map2(const double* a, std::size_t sa, const double* b, std::size_t sb, double* o, std::size_t n, F f) {
  with_strides(sa, sb, [&](auto SA, auto SB) {
    for (std::size_t i = 0; i < n; ++i) o[i] = f(a[i * SA], b[i * SB]);
  });
}

// Accumulates d out/d a (fa) and d out/d b (fb); size-1 inputs receive the sum.
template <class FA, class FB>
inline void back2(const double* a, std::size_t sa, double* aa, const double* b, std::size_t sb, double* ba,
                  const double* o, const double* oa, std::size_t n, FA fa, FB fb) {
  with_strides(sa, sb, [&](auto SA, auto SB) {
    if (aa) {
      if (SA) {
        for (std::size_t i = 0; i < n; ++i) aa[i] += oa[i] * fa(a[i], b[i * SB], o[i]);
      } else {
        aa[0] += lane_sum(n, [&](std::size_t i) { return oa[i] * fa(a[0], b[i * SB], o[i]); });
      }
    }
    if (ba) {
      if (SB) {
        for (std::size_t i = 0; i < n; ++i) ba[i] += oa[i] * fb(a[i * SA], b[i], o[i]);
      } else {
        ba[0] += lane_sum(n, [&](std::size_t i) { return oa[i] * fb(a[i * SA], b[0], o[i]); });
      }
    }
  });
}

}  // namespace

void binary_forward(const Op& op, Ctx& c) {
  const double* a = c.v(op.in[0]);
  const double* b = c.v(op.in[1]);
  const std::size_t n = c.n(op.out);
  const std::size_t sa = c.n(op.in[0]) == n ? 1 : 0, sb = c.n(op.in[1]) == n ? 1 : 0;
  double* o = c.out(op.out);
  if (!ops::with_binary(op.code, [&](auto f, auto, auto) { map2(a, sa, b, sb, o, n, f); }))
    fail("binary op ", op_label(op.code), " has no kernel");
}

void binary_backward(const Op& op, Ctx& c) {
  const double* a = c.v(op.in[0]);
  const double* b = c.v(op.in[1]);
  double* aa = c.a(op.in[0]);
  double* ba = c.a(op.in[1]);
  if (!aa && !ba) return;
  const std::size_t n = c.n(op.out);
  const std::size_t sa = c.n(op.in[0]) == n ? 1 : 0, sb = c.n(op.in[1]) == n ? 1 : 0;
  const double* o = c.v(op.out);
  const double* oa = c.a(op.out);
  if (!ops::with_binary(op.code, [&](auto, auto fa, auto fb) { back2(a, sa, aa, b, sb, ba, o, oa, n, fa, fb); }))
    fail("binary op ", op_label(op.code), " has no adjoint");
}

}  // namespace brr::ad
