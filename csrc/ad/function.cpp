// Running a Function: forward and reverse sweeps of its body Program seeded at its output slot.
#include "ad/function.hpp"

#include <algorithm>
#include <cstring>

namespace brr::ad {

namespace {

void sweep_forward(const Function& f, Workspace& ws, const double* x, bool grad) {
  std::memcpy(ws.val.data(), x, f.in_dim() * sizeof(double));
  Ctx c{f.body(), ws, grad};
  if (grad) std::fill(ws.adj.begin(), ws.adj.end(), 0.0);
  for (const Op& op : f.body().ops()) ad::forward(op, c);
}

void sweep_backward(const Function& f, Workspace& ws) {
  Ctx c{f.body(), ws, true};
  const auto& ops = f.body().ops();
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) ad::backward(*it, c);
}

// Whether one forward sweep serves every reverse sweep of a Jacobian: true when no op keeps anything
// between its sweeps outside the values (scratch, which ops share, or a tape), so each reverse sweep
// reads the same values and starts from zeroed adjoints. Otherwise a fresh forward sweep per row.
bool reverse_sweeps_repeat(const Program& body) {
  if (body.scratch_size() != 0) return false;
  for (const Op& op : body.ops())
    if (op.code == OpCode::OdeSolve) return false;
  return true;
}

}  // namespace

void eval(const Function& f, Workspace& ws, const double* x, double* y) {
  sweep_forward(f, ws, x, false);
  copy_slot(f.body(), ws, f.out(), y);
}

void vjp(const Function& f, Workspace& ws, const double* x, const double* w, double* y, double* gx) {
  sweep_forward(f, ws, x, true);
  if (y) copy_slot(f.body(), ws, f.out(), y);
  const Slot& o = f.body().slot(f.out());
  if (o.adj < 0) return;  // f does not depend on x: J = 0
  // views of the input alias slot 0's adjoint, so seeding them seeds x directly
  for (std::size_t i = 0; i < o.size; ++i) ws.adj[static_cast<std::size_t>(o.adj) + i] += w[i];
  sweep_backward(f, ws);
  for (std::size_t i = 0; i < f.in_dim(); ++i) gx[i] += ws.adj[i];
}

void jacobian(const Function& f, Workspace& ws, const double* x, double* y, double* J) {
  const std::size_t n = f.out_dim(), d = f.in_dim();
  const Slot& o = f.body().slot(f.out());
  if (o.adj < 0) {
    std::fill(J, J + n * d, 0.0);
    eval(f, ws, x, y);
    return;
  }
  const bool one_forward = reverse_sweeps_repeat(f.body());
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 0 || !one_forward) sweep_forward(f, ws, x, true);
    else std::fill(ws.adj.begin(), ws.adj.end(), 0.0);
    if (i == 0) copy_slot(f.body(), ws, f.out(), y);
    ws.adj[static_cast<std::size_t>(o.adj) + i] = 1.0;
    sweep_backward(f, ws);
    std::memcpy(J + i * d, ws.adj.data(), d * sizeof(double));
  }
}

}  // namespace brr::ad
