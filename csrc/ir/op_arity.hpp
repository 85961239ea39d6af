// How many inputs (value first) each univariate density op reads (its signature in ops.def), so the IR's
// shape checks, the CPU kernels' table (density/univariate.cpp) and the device kernels agree.
#pragma once
#include "common/hd.hpp"
#include "ir/op_codes.hpp"

namespace brr::ir {

// 0 for a code that is not a univariate density.
BRR_HD inline int univariate_arity(OpCode code) {
  switch (code) {
    case OpCode::ExponentialLpdf: case OpCode::BernoulliLogitLpmf: case OpCode::PoissonLogLpmf:
    case OpCode::StudentTLpdf: case OpCode::NormalLpdf: case OpCode::CauchyLpdf: case OpCode::LaplaceLpdf:
    case OpCode::GammaLpdf: case OpCode::InvGammaLpdf: case OpCode::LogNormalLpdf: case OpCode::BetaLpdf:
    case OpCode::UniformLpdf: case OpCode::BinomialLogitLpmf: case OpCode::NegBinomialLogLpmf:
      return op_signature(code).min_inputs;  // the count is the table's (ops.def); this lists which are univariate
    default: return 0;
  }
}

}  // namespace brr::ir
