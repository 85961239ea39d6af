// The binary elementwise ops as per-element functions: f(x, y), d f/d x and d f/d y (each given x, y
// and z = f(x, y)). One table for the scalar kernels (ops_elementwise.cpp) and the batch kernels.
#pragma once
#include <cmath>

#include "ad/op_codes.hpp"

namespace brr::ad::terms {

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

}  // namespace brr::ad::terms
