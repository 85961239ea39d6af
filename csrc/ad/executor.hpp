// The CPU executor of a Program (ir/program.hpp): per-chain buffers, the context a kernel sees, and
// the forward/backward sweep. Reverse-mode: forward runs the ops in order, backward in reverse.
#pragma once
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "common/divergence.hpp"
#include "common/row_pool.hpp"
#include "common/span.hpp"
#include "ir/program.hpp"

namespace brr::ad {

// The executor speaks the IR's vocabulary (Program, Op, Slot, OpCode, Function, the op tables).
using namespace brr::ir;

// Per-thread evaluation buffers, allocated once per chain: no allocation per evaluation.
struct Workspace {
  std::vector<double> val;
  std::vector<double> adj;
  std::vector<double> scratch;  // ops needing temporaries use this (sized at finalize)
  std::vector<std::vector<double>> worker_scratch;  // one per row thread (worker 0 is the caller)
  std::shared_ptr<RowPool> pool;                    // row threads beyond the caller; null for one thread
  std::vector<Workspace> fn_ws;                     // one per Function the program calls
  std::vector<std::vector<double>> tape;            // by output slot: what an op keeps from forward for backward
  std::vector<std::size_t> logp_ops;                // ir::logp_ops: what logp_grad runs
  std::vector<std::pair<std::size_t, std::size_t>> adj_zero;  // ir::adjoint_ranges of those ops
  // why the last evaluation's value is not usable, where an op knows (an ODE solve that stopped
  // short); reset by each evaluation, the first op to fail names it
  Divergence failure = Divergence::None;
};

// What a kernel sees: typed access to its slots and the running target.
struct Ctx {
  const Program& prog;
  Workspace& ws;
  bool want_grad;
  double target = 0.0;

  // inline: a small op (a right-hand side's, a function body's) asks for its slots as often as it computes
  const double* v(int s) const {  // any slot's values, a constant slot's too: read-only
    const Slot& sl = prog.slot(s);
    return (sl.constant ? prog.constants().data() : ws.val.data()) + sl.offset;
  }
  double* out(int slot) const;  // an op's own output slot, to write; fails on a constant slot
  double* a(int s) const {      // nullptr when the slot needs no gradient or grad is off
    const Slot& sl = prog.slot(s);
    return (want_grad && sl.adj >= 0) ? ws.adj.data() + sl.adj : nullptr;
  }
  std::size_t n(int s) const { return prog.slot(s).size; }
  const int32_t* index(int id) const { return prog.index(id).data(); }
  std::size_t index_len(int id) const { return prog.index(id).size(); }
};

Workspace make_workspace(const Program& p, int row_threads = 1);  // row_threads: threads for large GLM ops
// logp at x; fills grad (size dim) when grad.data is non-null.
double logp_grad(const Program& p, Workspace& ws, ConstSpan x, Span grad);
// Runs only `ops` (from Program::ops_for) forward at x, without gradients; then copy_slot reads them.
void forward_only(const Program& p, Workspace& ws, ConstSpan x, const std::vector<std::size_t>& ops);
void copy_slot(const Program& p, const Workspace& ws, int slot, double* out);

// Kernel tables (one per op family file).
void forward(const Op& op, Ctx& c);
void backward(const Op& op, Ctx& c);

}  // namespace brr::ad
