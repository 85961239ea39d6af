// A compiled model: slots (flat double buffers), index arrays and an op list run forward and backward.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "ad/function.hpp"
#include "ad/op_codes.hpp"
#include "common/row_pool.hpp"
#include "common/span.hpp"

namespace brr::ad {

struct Op {
  OpCode code;
  std::vector<int> in;        // input slot ids
  int out = -1;               // output slot id, -1 for ops that only add to the target
  std::vector<int> idx;       // index-array ids
  std::vector<int64_t> ip;    // integer parameters (axis layout, sizes)
  std::vector<double> dp;     // scalar parameters (bounds, constants)
};

struct Slot {
  std::size_t size = 0;
  std::size_t offset = 0;      // into Workspace::val
  std::ptrdiff_t adj = -1;     // into Workspace::adj, -1 when no gradient flows through it
  bool constant = false;       // data: filled once, never written by ops
  bool view = false;           // aliases another slot's memory
  int parent = -1;             // the slot a view aliases (for serialisation)
};

// Per-thread evaluation buffers, allocated once per chain: no allocation per evaluation.
struct Workspace {
  std::vector<double> val;
  std::vector<double> adj;
  std::vector<double> scratch;  // ops needing temporaries use this (sized at finalize)
  std::vector<std::vector<double>> worker_scratch;  // one per row thread (worker 0 is the caller)
  std::shared_ptr<RowPool> pool;                    // row threads beyond the caller; null for one thread
  std::vector<Workspace> fn_ws;                     // one per Function the program calls
  std::vector<std::vector<double>> tape;            // by output slot: what an op keeps from forward for backward
};

class Program;

// What a kernel sees: typed access to its slots and the running target.
struct Ctx {
  const Program& prog;
  Workspace& ws;
  bool want_grad;
  double target = 0.0;

  double* v(int slot) const;
  double* a(int slot) const;  // nullptr when the slot needs no gradient or grad is off
  std::size_t n(int slot) const;
  const int32_t* index(int id) const;
  std::size_t index_len(int id) const;
};

class Program {
 public:
  explicit Program(std::size_t dim);  // slot 0 is the flat unconstrained parameter vector

  int add_slot(std::size_t size);
  int add_const(const double* values, std::size_t size);
  int add_view(int parent, std::size_t offset, std::size_t size);
  int add_index(const int64_t* values, std::size_t size, int64_t bound);
  void add_op(Op op);  // validates shapes and ids; throws ShapeError
  // A function the ops can call (ScanStep, OdeSolve name it by id); the body is copied, so later
  // changes to the caller's Program cannot reach it.
  int add_function(const Program& body, int out);
  const Function& function(int id) const { return functions_.at(static_cast<std::size_t>(id)); }
  std::size_t num_functions() const { return functions_.size(); }

  std::size_t dim() const { return slots_[0].size; }
  std::size_t num_slots() const { return slots_.size(); }
  const Slot& slot(int id) const { return slots_.at(id); }
  const std::vector<Op>& ops() const { return ops_; }

  Workspace make_workspace(int row_threads = 1) const;  // row_threads: threads for large GLM ops
  // logp at x; fills grad (size dim) when grad.data is non-null.
  double logp_grad(Workspace& ws, ConstSpan x, Span grad) const;
  void copy_slot(const Workspace& ws, int slot, double* out) const;
  // The ops that compute `slots` (their writers and, transitively, their inputs' writers), in
  // program order: reading constrained values and deterministics skips the likelihood.
  std::vector<std::size_t> ops_for(const std::vector<int>& slots) const;
  // Runs only `ops` (from ops_for) forward at x, without gradients; then copy_slot reads them.
  void forward_only(Workspace& ws, ConstSpan x, const std::vector<std::size_t>& ops) const;

  std::vector<double> const_values_;  // constants laid out by slot order
  std::vector<std::vector<int32_t>> indices_;
  std::vector<int64_t> index_bounds_;
  // slots that existed when each op was added: serialisation replays construction in the same order
  const std::vector<std::size_t>& op_slot_counts() const { return op_slot_counts_; }

 private:
  std::vector<std::size_t> op_slot_counts_;
  std::vector<Function> functions_;
  std::vector<Slot> slots_;
  std::vector<Op> ops_;
  std::size_t val_size_ = 0, adj_size_ = 0, scratch_size_ = 0, worker_scratch_size_ = 0;
  bool row_chunked_ = false;  // some GlmLpdf has more than kGlmChunkRows rows
};

// Kernel tables (one per op family file).
void forward(const Op& op, Ctx& c);
void backward(const Op& op, Ctx& c);

}  // namespace brr::ad
