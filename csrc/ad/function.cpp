// Function: forward and reverse sweeps of a body Program seeded at its output slot.
#include "ad/function.hpp"

#include <algorithm>
#include <cstring>

#include "ad/op_shapes.hpp"
#include "ad/program.hpp"
#include "common/errors.hpp"

namespace brr::ad {

Function::Function(std::shared_ptr<const Program> body, int out) : body_(std::move(body)), out_(out) {
  if (!body_) fail("add_function: the body program is missing");
  if (out < 0 || out >= static_cast<int>(body_->num_slots()))
    fail("add_function: output slot ", out, " does not exist in the body (", body_->num_slots(), " slots)");
  for (const Op& op : body_->ops())
    if (op.out < 0 || is_transform(op.code))
      fail("add_function: the body adds to the log density (op ", op_label(op.code),
           "); a function body must be a pure expression of its inputs");
}

std::size_t Function::in_dim() const { return body_->dim(); }
std::size_t Function::out_dim() const { return body_->slot(out_).size; }

void Function::forward(Workspace& ws, const double* x, bool grad) const {
  std::memcpy(ws.val.data(), x, in_dim() * sizeof(double));
  Ctx c{*body_, ws, grad};
  if (grad) std::fill(ws.adj.begin(), ws.adj.end(), 0.0);
  for (const Op& op : body_->ops()) ad::forward(op, c);
}

void Function::eval(Workspace& ws, const double* x, double* y) const {
  forward(ws, x, false);
  body_->copy_slot(ws, out_, y);
}

void Function::vjp(Workspace& ws, const double* x, const double* w, double* y, double* gx) const {
  forward(ws, x, true);
  if (y) body_->copy_slot(ws, out_, y);
  const Slot& o = body_->slot(out_);
  if (o.adj < 0) return;  // f does not depend on x: J = 0
  // views of the input alias slot 0's adjoint, so seeding them seeds x directly
  for (std::size_t i = 0; i < o.size; ++i) ws.adj[static_cast<std::size_t>(o.adj) + i] += w[i];
  backward(ws);
  for (std::size_t i = 0; i < in_dim(); ++i) gx[i] += ws.adj[i];
}

void Function::backward(Workspace& ws) const {
  Ctx c{*body_, ws, true};
  const auto& ops = body_->ops();
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) ad::backward(*it, c);
}

void Function::jacobian(Workspace& ws, const double* x, double* y, double* J) const {
  const std::size_t n = out_dim(), d = in_dim();
  const Slot& o = body_->slot(out_);
  if (o.adj < 0) {
    std::fill(J, J + n * d, 0.0);
    eval(ws, x, y);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    // a fresh forward sweep per row: some kernels keep forward temporaries in scratch for backward
    forward(ws, x, true);
    if (i == 0) body_->copy_slot(ws, out_, y);
    ws.adj[static_cast<std::size_t>(o.adj) + i] = 1.0;
    backward(ws);
    std::memcpy(J + i * d, ws.adj.data(), d * sizeof(double));
  }
}

}  // namespace brr::ad
