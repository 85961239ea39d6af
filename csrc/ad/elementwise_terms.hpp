// The binary elementwise ops as per-element functions: f(x, y), d f/d x and d f/d y (each given x, y
// and z = f(x, y)). One table for the scalar kernels (ops_elementwise.cpp) and the batch kernels.
#pragma once
#include <cmath>

#include "ir/op_codes.hpp"
#include "ad/scalar_math.hpp"
#include "common/hd.hpp"

namespace brr::ad::terms {

using ir::OpCode;

// Calls fn(f, fa, fb) for a binary op code; false for any other code.
template <class Fn>
bool with_binary(OpCode code, Fn fn) {
  switch (code) {
    case OpCode::Add:
      fn([](double x, double y) { return x + y; }, [](double, double, double) { return 1.0; },
         [](double, double, double) { return 1.0; });
      return true;
    case OpCode::Sub:
      fn([](double x, double y) { return x - y; }, [](double, double, double) { return 1.0; },
         [](double, double, double) { return -1.0; });
      return true;
    case OpCode::Mul:
      fn([](double x, double y) { return x * y; }, [](double, double y, double) { return y; },
         [](double x, double, double) { return x; });
      return true;
    case OpCode::Div:
      fn([](double x, double y) { return x / y; }, [](double, double y, double) { return 1.0 / y; },
         [](double, double y, double z) { return -z / y; });
      return true;
    case OpCode::Pow:
      fn([](double x, double y) { return std::pow(x, y); },
         [](double x, double y, double) { return y == 0.0 ? 0.0 : y * std::pow(x, y - 1.0); },
         [](double x, double, double z) { return x > 0 ? z * std::log(x) : 0.0; });
      return true;
    default:
      return false;
  }
}

// The same ops one element at a time, dispatched on the code inside: for device kernels, where a
// switch per element costs little and lambdas cannot be passed. Unknown codes give NaN.
BRR_HD inline double binary_value(OpCode code, double x, double y) {
  switch (code) {
    case OpCode::Add: return x + y;
    case OpCode::Sub: return x - y;
    case OpCode::Mul: return x * y;
    case OpCode::Div: return x / y;
    case OpCode::Pow: return std::pow(x, y);
    default: return NAN;
  }
}
// d f / d x (wrt_x) or d f / d y, given x, y and z = f(x, y)
BRR_HD inline double binary_partial(OpCode code, bool wrt_x, double x, double y, double z) {
  switch (code) {
    case OpCode::Add: return 1.0;
    case OpCode::Sub: return wrt_x ? 1.0 : -1.0;
    case OpCode::Mul: return wrt_x ? y : x;
    case OpCode::Div: return wrt_x ? 1.0 / y : -z / y;
    case OpCode::Pow: return wrt_x ? (y == 0.0 ? 0.0 : y * std::pow(x, y - 1.0)) : (x > 0 ? z * std::log(x) : 0.0);
    default: return NAN;
  }
}

// The unary ops (ops_elementwise.cpp's table, which runs exp/log/log1p through vec_math instead).
BRR_HD inline double unary_value(OpCode code, double x) {
  switch (code) {
    case OpCode::Neg: return -x;
    case OpCode::Exp: return std::exp(x);
    case OpCode::Log: return std::log(x);
    case OpCode::Log1p: return std::log1p(x);
    case OpCode::Expm1: return std::expm1(x);
    case OpCode::Logit: return std::log(x / (1.0 - x));
    case OpCode::InvLogit: return inv_logit(x);
    case OpCode::LogInvLogit: return log_inv_logit(x);
    case OpCode::Log1mInvLogit: return log1m_inv_logit(x);
    case OpCode::Softplus: return log1p_exp(x);
    case OpCode::Sqrt: return std::sqrt(x);
    case OpCode::Square: return x * x;
    case OpCode::Tanh: return std::tanh(x);
    case OpCode::Abs: return std::fabs(x);
    case OpCode::LGamma: return std::lgamma(x);
    default: return NAN;
  }
}
// d out / d x given x and y = f(x)
BRR_HD inline double unary_partial(OpCode code, double x, double y) {
  switch (code) {
    case OpCode::Neg: return -1.0;
    case OpCode::Exp: return y;
    case OpCode::Log: return 1.0 / x;
    case OpCode::Log1p: return 1.0 / (1.0 + x);
    case OpCode::Expm1: return y + 1.0;
    case OpCode::Logit: return 1.0 / (x * (1.0 - x));
    case OpCode::InvLogit: return y * (1.0 - y);
    case OpCode::LogInvLogit: return inv_logit(-x);
    case OpCode::Log1mInvLogit: return -inv_logit(x);
    case OpCode::Softplus: return inv_logit(x);
    case OpCode::Sqrt: return 0.5 / y;
    case OpCode::Square: return 2.0 * x;
    case OpCode::Tanh: return 1.0 - y * y;
    case OpCode::Abs: return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
    case OpCode::LGamma: return digamma(x);
    default: return NAN;
  }
}

}  // namespace brr::ad::terms
