// The CPU executor: a Program's ops run forward and backward over one workspace.
#include "ad/executor.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/errors.hpp"
#include "ir/logp_ops.hpp"

namespace brr::ad {

double* Ctx::out(int s) const {
  const Slot& sl = prog.slot(s);
  if (sl.constant) fail("internal: an op writes constant slot ", s, "; the Program is malformed");
  return ws.val.data() + sl.offset;
}

Workspace make_workspace(const Program& p, int row_threads) {
  if (row_threads < 1) fail("make_workspace: row_threads must be >= 1, got ", row_threads);
  if (!p.row_chunked()) row_threads = 1;  // no op splits its rows: extra threads would only sleep
  Workspace ws;
  ws.val.assign(p.value_size(), 0.0);
  ws.adj.assign(p.adjoint_size(), 0.0);
  ws.scratch.assign(p.scratch_size(), 0.0);
  ws.worker_scratch.assign(static_cast<std::size_t>(row_threads), std::vector<double>(p.worker_scratch_size(), 0.0));
  if (row_threads > 1) ws.pool = std::make_shared<RowPool>(row_threads);
  for (std::size_t f = 0; f < p.num_functions(); ++f)
    ws.fn_ws.push_back(make_workspace(p.function(static_cast<int>(f)).body(), 1));
  ws.tape.resize(p.num_slots());
  ws.logp_ops = ir::logp_ops(p);
  ws.adj_zero = ir::adjoint_ranges(p, ws.logp_ops);
  return ws;
}

double logp_grad(const Program& p, Workspace& ws, ConstSpan x, Span grad) {
  if (x.size != p.dim()) fail("logp: x has size ", x.size, " but the model has dimension ", p.dim());
  const bool want_grad = grad.data != nullptr;
  if (want_grad && grad.size != p.dim()) fail("logp: grad has size ", grad.size, ", expected ", p.dim());
  std::memcpy(ws.val.data(), x.data, p.dim() * sizeof(double));
  ws.failure = Divergence::None;
  Ctx c{p, ws, want_grad};
  if (want_grad)  // memset: a plain loop of stores ran 3% of W4's evaluation slower than glibc's
    for (const auto& [b, e] : ws.adj_zero) std::memset(ws.adj.data() + b, 0, (e - b) * sizeof(double));
  const auto& ops = p.ops();
  for (std::size_t k : ws.logp_ops) forward(ops[k], c);
  if (want_grad) {
    for (auto it = ws.logp_ops.rbegin(); it != ws.logp_ops.rend(); ++it) backward(ops[*it], c);
    std::memcpy(grad.data, ws.adj.data(), p.dim() * sizeof(double));
  }
  // an op that failed (an ODE solve stopped short) fails the whole density, whether or not the
  // outputs it left NaN enter it: every caller (the samplers, Pathfinder, logp()) sees one answer
  return ws.failure == Divergence::None ? c.target : std::numeric_limits<double>::quiet_NaN();
}

void forward_only(const Program& p, Workspace& ws, ConstSpan x, const std::vector<std::size_t>& ops) {
  if (x.size != p.dim()) fail("forward_only: x has size ", x.size, " but the model has dimension ", p.dim());
  std::memcpy(ws.val.data(), x.data, p.dim() * sizeof(double));
  ws.failure = Divergence::None;
  Ctx c{p, ws, false};
  for (std::size_t k : ops) forward(p.ops().at(k), c);
}

void copy_slot(const Program& p, const Workspace& ws, int s, double* out) {
  const Slot& sl = p.slot(s);
  const double* src = sl.constant ? p.constants().data() + sl.offset : ws.val.data() + sl.offset;
  std::memcpy(out, src, sl.size * sizeof(double));
}

}  // namespace brr::ad
