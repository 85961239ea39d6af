// Elementwise unary and binary math with scalar broadcasting.
#include <cmath>

#include "ad/elementwise_terms.hpp"
#include "ad/kernels.hpp"
#include "ad/scalar_math.hpp"
#include "common/errors.hpp"
#include "common/reduce.hpp"
#include "common/strides.hpp"
#include "common/vec_math.hpp"

namespace brr::ad {

namespace {

template <class F>
inline void map1(const double* a, double* o, std::size_t n, F f) {
  for (std::size_t i = 0; i < n; ++i) o[i] = f(a[i]);
}
// d out / d a, given a and out
template <class F>
inline void back1(const double* a, const double* o, const double* oa, double* aa, std::size_t n, F f) {
  for (std::size_t i = 0; i < n; ++i) aa[i] += oa[i] * f(a[i], o[i]);
}

}  // namespace

void unary_forward(const Op& op, Ctx& c) { unary_map(op.code, c.v(op.in[0]), c.out(op.out), c.n(op.out)); }

void unary_backward(const Op& op, Ctx& c) {
  double* aa = c.a(op.in[0]);
  if (!aa) return;
  unary_back(op.code, c.v(op.in[0]), c.v(op.out), c.a(op.out), aa, c.n(op.out));
}

void unary_map(OpCode code, const double* a, double* o, std::size_t n) {
  switch (code) {
    case OpCode::Neg: map1(a, o, n, [](double x) { return -x; }); break;
    case OpCode::Exp: vec_exp(a, o, n); break;
    case OpCode::Log: vec_log(a, o, n); break;
    case OpCode::Log1p: vec_log1p(a, o, n); break;
    case OpCode::Expm1: map1(a, o, n, [](double x) { return std::expm1(x); }); break;
    case OpCode::Logit: map1(a, o, n, [](double x) { return std::log(x / (1.0 - x)); }); break;
    case OpCode::InvLogit: map1(a, o, n, [](double x) { return inv_logit(x); }); break;
    case OpCode::LogInvLogit: map1(a, o, n, [](double x) { return log_inv_logit(x); }); break;
    case OpCode::Log1mInvLogit: map1(a, o, n, [](double x) { return log1m_inv_logit(x); }); break;
    case OpCode::Softplus: map1(a, o, n, [](double x) { return log1p_exp(x); }); break;
    case OpCode::Sqrt: map1(a, o, n, [](double x) { return std::sqrt(x); }); break;
    case OpCode::Square: map1(a, o, n, [](double x) { return x * x; }); break;
    case OpCode::Tanh: map1(a, o, n, [](double x) { return std::tanh(x); }); break;
    case OpCode::Abs: map1(a, o, n, [](double x) { return std::fabs(x); }); break;
    case OpCode::LGamma: map1(a, o, n, [](double x) { return std::lgamma(x); }); break;
    default: fail("unary op ", op_label(code), " has no kernel");
  }
}

void unary_back(OpCode code, const double* a, const double* o, const double* oa, double* aa, std::size_t n) {
  switch (code) {
    case OpCode::Neg: back1(a, o, oa, aa, n, [](double, double) { return -1.0; }); break;
    case OpCode::Exp: back1(a, o, oa, aa, n, [](double, double y) { return y; }); break;
    case OpCode::Log: back1(a, o, oa, aa, n, [](double x, double) { return 1.0 / x; }); break;
    case OpCode::Log1p: back1(a, o, oa, aa, n, [](double x, double) { return 1.0 / (1.0 + x); }); break;
    case OpCode::Expm1: back1(a, o, oa, aa, n, [](double, double y) { return y + 1.0; }); break;
    case OpCode::Logit: back1(a, o, oa, aa, n, [](double x, double) { return 1.0 / (x * (1.0 - x)); }); break;
    case OpCode::InvLogit: back1(a, o, oa, aa, n, [](double, double y) { return y * (1.0 - y); }); break;
    case OpCode::LogInvLogit: back1(a, o, oa, aa, n, [](double x, double) { return inv_logit(-x); }); break;
    case OpCode::Log1mInvLogit: back1(a, o, oa, aa, n, [](double x, double) { return -inv_logit(x); }); break;
    case OpCode::Softplus: back1(a, o, oa, aa, n, [](double x, double) { return inv_logit(x); }); break;
    case OpCode::Sqrt: back1(a, o, oa, aa, n, [](double, double y) { return 0.5 / y; }); break;
    case OpCode::Square: back1(a, o, oa, aa, n, [](double x, double) { return 2.0 * x; }); break;
    case OpCode::Tanh: back1(a, o, oa, aa, n, [](double, double y) { return 1.0 - y * y; }); break;
    case OpCode::Abs: back1(a, o, oa, aa, n, [](double x, double) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }); break;
    case OpCode::LGamma: back1(a, o, oa, aa, n, [](double x, double) { return digamma(x); }); break;
    default: fail("unary op ", op_label(code), " has no adjoint");
  }
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
  if (!terms::with_binary(op.code, [&](auto f, auto, auto) { map2(a, sa, b, sb, o, n, f); }))
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
  if (!terms::with_binary(op.code, [&](auto, auto fa, auto fb) { back2(a, sa, aa, b, sb, ba, o, oa, n, fa, fb); }))
    fail("binary op ", op_label(op.code), " has no adjoint");
}

}  // namespace brr::ad
