// The unary elementwise ops, each defined once: its value f(x) and its derivative given x and y = f(x).
// Every executor runs them from this table: the device and the lane-interleaved paths element by
// element (unary_value, unary_partial), the CPU executors over whole arrays (unary_map, unary_back),
// where exp, log and log1p go through vec_math's SIMD kernels (common/vec_math.hpp).
// Adding a unary op: its row in ir/ops.def (code 0-99) and its row here.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/scalar_math.hpp"
#include "common/hd.hpp"
#include "ir/op_codes.hpp"
#if !defined(__CUDACC__)
#include "common/errors.hpp"
#include "common/vec_math.hpp"
#endif

namespace brr::ops {

// X(enumerator in ops.def, f(x), d f / d x in terms of x and y)
#define BRR_UNARY_OPS(X)                                          \
  X(Neg, -x, -1.0)                                                \
  X(Exp, std::exp(x), y)                                          \
  X(Log, std::log(x), 1.0 / x)                                    \
  X(Log1p, std::log1p(x), 1.0 / (1.0 + x))                        \
  X(Expm1, std::expm1(x), y + 1.0)                                \
  X(Logit, std::log(x / (1.0 - x)), 1.0 / (x * (1.0 - x)))        \
  X(InvLogit, inv_logit(x), y * (1.0 - y))                    \
  X(LogInvLogit, log_inv_logit(x), inv_logit(-x))         \
  X(Log1mInvLogit, log1m_inv_logit(x), -inv_logit(x))     \
  X(Softplus, log1p_exp(x), inv_logit(x))                 \
  X(Sqrt, std::sqrt(x), 0.5 / y)                                  \
  X(Square, x * x, 2.0 * x)                                       \
  X(Tanh, std::tanh(x), 1.0 - y * y)                              \
  X(Abs, std::fabs(x), x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0))        \
  X(LGamma, std::lgamma(x), digamma(x))                           \
  X(Erf, std::erf(x), 1.1283791670955126 * std::exp(-x * x))

// unknown codes give NaN (a device kernel cannot throw)
BRR_HD inline double unary_value(ir::OpCode code, double x) {
  switch (code) {
#define BRR_UNARY_VALUE(N, F, D) \
  case ir::OpCode::N:            \
    return F;
    BRR_UNARY_OPS(BRR_UNARY_VALUE)
#undef BRR_UNARY_VALUE
    default:
      return NAN;
  }
}

BRR_HD inline double unary_partial(ir::OpCode code, double x, double y) {
  (void)x;
  (void)y;
  switch (code) {
#define BRR_UNARY_PARTIAL(N, F, D) \
  case ir::OpCode::N:              \
    return D;
    BRR_UNARY_OPS(BRR_UNARY_PARTIAL)
#undef BRR_UNARY_PARTIAL
    default:
      return NAN;
  }
}

#if !defined(__CUDACC__)
// o[i] = f(a[i]) over n elements
inline void unary_map(ir::OpCode code, const double* a, double* o, std::size_t n) {
  if (code == ir::OpCode::Exp) return vec_exp(a, o, n);
  if (code == ir::OpCode::Log) return vec_log(a, o, n);
  if (code == ir::OpCode::Log1p) return vec_log1p(a, o, n);
  switch (code) {
#define BRR_UNARY_MAP(N, F, D)                                  \
  case ir::OpCode::N:                                           \
    for (std::size_t i = 0; i < n; ++i) {                       \
      const double x = a[i];                                    \
      o[i] = F;                                                 \
    }                                                           \
    return;
    BRR_UNARY_OPS(BRR_UNARY_MAP)
#undef BRR_UNARY_MAP
    default:
      fail("unary op ", ir::op_label(code), " has no kernel");
  }
}

// aa[i] += oa[i] * f'(a[i]) given o = f(a)
inline void unary_back(ir::OpCode code, const double* a, const double* o, const double* oa, double* aa, std::size_t n) {
  switch (code) {
#define BRR_UNARY_BACK(N, F, D)                                 \
  case ir::OpCode::N:                                           \
    for (std::size_t i = 0; i < n; ++i) {                       \
      const double x = a[i], y = o[i];                          \
      (void)x;                                                  \
      (void)y;                                                  \
      aa[i] += oa[i] * (D);                                     \
    }                                                           \
    return;
    BRR_UNARY_OPS(BRR_UNARY_BACK)
#undef BRR_UNARY_BACK
    default:
      fail("unary op ", ir::op_label(code), " has no adjoint");
  }
}
#endif

}  // namespace brr::ops
