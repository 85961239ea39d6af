// Routes each op to its family's kernel.
#include "ad/kernels.hpp"
#include "ad/spec_views.hpp"
#include "ir/op_shapes.hpp"
#include "ops/all.hpp"

namespace brr::ad {

void forward(const Op& op, Ctx& c) {
  HostView<Ctx> x{c, 1};
  if (ops::with_spec(op.code, [&](auto spec) { decltype(spec)::forward(op, x); })) return;
  if (is_unary(op.code)) return unary_forward(op, c);
  if (is_binary(op.code)) return binary_forward(op, c);
  if (is_density(op.code)) return density_forward(op, c);
  if (op.code == OpCode::LinearPredictor) return linpred_forward(op, c);
  if (op.code == OpCode::PointwiseLpdf) return pointwise_forward(op, c);
  if (op.code == OpCode::HmmLogLik) return hmm_forward(op, c);
  if (op.code == OpCode::Scan) return scan_forward(op, c);
  if (op.code == OpCode::OdeSolve) return ode_forward(op, c);
  structure_forward(op, c);
}

void backward(const Op& op, Ctx& c) {
  if (!c.want_grad || is_density(op.code)) return;  // density partials were added going forward
  if (op.out >= 0 && c.a(op.out) == nullptr) return;  // nothing upstream needs this gradient
  HostView<Ctx> x{c, 1};
  if (ops::with_spec(op.code, [&](auto spec) { decltype(spec)::backward(op, x); })) return;
  if (is_unary(op.code)) return unary_backward(op, c);
  if (is_binary(op.code)) return binary_backward(op, c);
  if (op.code == OpCode::LinearPredictor) return linpred_backward(op, c);
  if (op.code == OpCode::PointwiseLpdf) return pointwise_backward(op, c);
  if (op.code == OpCode::HmmLogLik) return hmm_backward(op, c);
  if (op.code == OpCode::Scan) return scan_backward(op, c);
  if (op.code == OpCode::OdeSolve) return ode_backward(op, c);
  structure_backward(op, c);
}

}  // namespace brr::ad
