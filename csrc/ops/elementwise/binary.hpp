// The binary elementwise ops (size-1 inputs broadcast), each defined once: f(x, y) and its partials in
// terms of x, y and z = f(x, y). The CPU executors take them as functors (with_binary), the device's
// kernels element by element (binary_value, binary_partial).
// Adding a binary op: its row in ir/ops.def (code 100-199) and its row here.
#pragma once
#include <cmath>

#include "common/hd.hpp"
#include "ir/op_codes.hpp"

namespace brr::ops {

// X(enumerator in ops.def, f(x, y), d f / d x, d f / d y)
#define BRR_BINARY_OPS(X)                                                                                   \
  X(Add, x + y, 1.0, 1.0)                                                                                   \
  X(Sub, x - y, 1.0, -1.0)                                                                                  \
  X(Mul, x * y, y, x)                                                                                       \
  X(Div, x / y, 1.0 / y, -z / y)                                                                            \
  X(Pow, std::pow(x, y), y == 0.0 ? 0.0 : y * std::pow(x, y - 1.0), x > 0 ? z * std::log(x) : 0.0)       \
  X(Lt, x < y ? 1.0 : 0.0, 0.0, 0.0)                                                                        \
  X(Le, x <= y ? 1.0 : 0.0, 0.0, 0.0)                                                                       \
  X(Gt, x > y ? 1.0 : 0.0, 0.0, 0.0)                                                                        \
  X(Ge, x >= y ? 1.0 : 0.0, 0.0, 0.0)

// Calls fn(f, fx, fy) with the op's value and partials as functors; false for any other code.
template <class Fn>
bool with_binary(ir::OpCode code, Fn fn) {
  switch (code) {
#define BRR_BINARY_FUNCTORS(N, F, DX, DY)                                          \
  case ir::OpCode::N:                                                              \
    fn([](double x, double y) { return F; },                                       \
       [](double x, double y, double z) { (void)x, (void)y, (void)z; return DX; }, \
       [](double x, double y, double z) { (void)x, (void)y, (void)z; return DY; }); \
    return true;
    BRR_BINARY_OPS(BRR_BINARY_FUNCTORS)
#undef BRR_BINARY_FUNCTORS
    default:
      return false;
  }
}

// unknown codes give NaN (a device kernel cannot throw)
BRR_HD inline double binary_value(ir::OpCode code, double x, double y) {
  switch (code) {
#define BRR_BINARY_VALUE(N, F, DX, DY) \
  case ir::OpCode::N:                  \
    return F;
    BRR_BINARY_OPS(BRR_BINARY_VALUE)
#undef BRR_BINARY_VALUE
    default:
      return NAN;
  }
}

// d f / d x (wrt_x) or d f / d y, given x, y and z = f(x, y)
BRR_HD inline double binary_partial(ir::OpCode code, bool wrt_x, double x, double y, double z) {
  (void)x, (void)y, (void)z;
  switch (code) {
#define BRR_BINARY_PARTIAL(N, F, DX, DY) \
  case ir::OpCode::N:                    \
    return wrt_x ? (DX) : (DY);
    BRR_BINARY_OPS(BRR_BINARY_PARTIAL)
#undef BRR_BINARY_PARTIAL
    default:
      return NAN;
  }
}

}  // namespace brr::ops
