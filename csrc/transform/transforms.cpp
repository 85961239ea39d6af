// Constraining transforms: out = T(y) and target += log|det J|, gradients of both in the backward pass.
#include <cmath>

#include "ad/kernels.hpp"
#include "common/scalar_math.hpp"
#include "transform/transform_rows.hpp"
#include "common/errors.hpp"

namespace brr::ad {

void transform_forward(const Op& op, Ctx& c) {
  const double* y = c.v(op.in[0]);
  double* x = c.out(op.out);
  double lp = 0.0;
  switch (op.code) {
    case OpCode::Ordered: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      for (std::size_t r = 0; r < b; ++r) rows::ordered(In{y + r * K}, Out{x + r * K}, K, lp);
      break;
    }
    case OpCode::SumToZero: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      for (std::size_t r = 0; r < b; ++r) rows::sum_to_zero(In{y + r * (K - 1)}, Out{x + r * K}, K);
      break;  // an isometry onto the zero-sum subspace: log|J| = 0
    }
    case OpCode::Simplex: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      double* s = c.ws.scratch.data();
      for (std::size_t r = 0; r < b; ++r) lp += rows::simplex(In{y + r * (K - 1)}, Out{x + r * K}, K, Out{s}, Out{s + K});
      break;
    }
    case OpCode::CholeskyCorr:
      lp = rows::chol_corr(In{y}, Out{x}, static_cast<std::size_t>(op.ip[0]));
      break;
    default:
      fail("transform op ", op_label(op.code), " has no kernel");
  }
  c.target += lp;
}

void transform_backward(const Op& op, Ctx& c) {
  double* ya = c.a(op.in[0]);
  if (!ya) return;
  const double* y = c.v(op.in[0]);
  const double* x = c.v(op.out);
  const double* xa = c.a(op.out);
  switch (op.code) {
    case OpCode::Ordered: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      for (std::size_t r = 0; r < b; ++r) rows::ordered_back(In{y + r * K}, In{xa + r * K}, Out{ya + r * K}, K);
      return;
    }
    case OpCode::SumToZero: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      for (std::size_t r = 0; r < b; ++r) rows::sum_to_zero_back(In{xa + r * K}, Out{ya + r * (K - 1)}, K);
      return;
    }
    case OpCode::Simplex: {
      const std::size_t b = op.ip[0], K = op.ip[1];
      double* s = c.ws.scratch.data();
      for (std::size_t r = 0; r < b; ++r)
        rows::simplex_back(In{y + r * (K - 1)}, In{xa + r * K}, Out{ya + r * (K - 1)}, K, Out{s}, Out{s + K});
      return;
    }
    case OpCode::CholeskyCorr:
      rows::chol_corr_back(In{y}, In{x}, In{xa}, Out{ya}, static_cast<std::size_t>(op.ip[0]), Out{c.ws.scratch.data()});
      return;
    default:
      fail("transform op ", op_label(op.code), " has no adjoint");
  }
}

}  // namespace brr::ad
