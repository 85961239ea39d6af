// A compiled model as data: slots (flat double buffers), constants, index arrays and an op list.
// Read-only once built: every member is private and each op is validated as it is added. The executors
// (ad/executor.hpp on the CPU, ad/batch.hpp over lanes, backend/ on a device) read it and keep their
// buffers apart; ir/program_io.hpp gives its bytes.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "ir/function.hpp"
#include "ir/narrow.hpp"
#include "ir/op_codes.hpp"

namespace brr::ir {

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

  // The ops that compute `slots` (their writers and, transitively, their inputs' writers), in
  // program order: reading constrained values and deterministics skips the likelihood.
  std::vector<std::size_t> ops_for(const std::vector<int>& slots) const;

  // Constants laid out by slot offset (a constant slot's values start at slot(id).offset).
  const std::vector<double>& constants() const { return const_values_; }
  std::size_t num_indices() const { return indices_.size(); }
  const std::vector<int32_t>& index(int id) const { return indices_.at(static_cast<std::size_t>(id)); }
  int64_t index_bound(int id) const { return index_bounds_.at(static_cast<std::size_t>(id)); }
  // Narrow copies for the CPU row kernels (ir/narrow.hpp), made for the row data of the GlmLpdf and
  // LinearPredictor ops as they are added: an index's 8- or 16-bit copy (both empty when it has none)
  // and a constant slot's coded column (nullptr when it has none).
  const NarrowIndex& narrow_index(int id) const { return narrow_.at(static_cast<std::size_t>(id)); }
  const CodedColumn* coded(int slot) const;

  // What an executor allocates per evaluation (decided as ops are added).
  std::size_t value_size() const { return val_size_; }       // non-constant slots' values
  std::size_t adjoint_size() const { return adj_size_; }     // adjoints of slots gradients flow through
  std::size_t scratch_size() const { return scratch_size_; }  // the largest op temporary
  std::size_t worker_scratch_size() const { return worker_scratch_size_; }
  bool row_chunked() const { return row_chunked_; }  // some GlmLpdf splits its rows across threads

  // slots that existed when each op was added: serialisation replays construction in the same order
  const std::vector<std::size_t>& op_slot_counts() const { return op_slot_counts_; }

 private:
  void add_row_copies(const Op& op);  // the narrow copies op's rows need (GlmLpdf, LinearPredictor)

  std::vector<double> const_values_;
  std::vector<std::vector<int32_t>> indices_;
  std::vector<int64_t> index_bounds_;
  std::vector<NarrowIndex> narrow_;       // per index array
  std::map<int, CodedColumn> coded_;      // constant slot -> its codes
  std::vector<std::size_t> op_slot_counts_;
  std::vector<Function> functions_;
  std::vector<Slot> slots_;
  std::vector<Op> ops_;
  std::size_t val_size_ = 0, adj_size_ = 0, scratch_size_ = 0, worker_scratch_size_ = 0;
  bool row_chunked_ = false;  // some GlmLpdf has more than kGlmChunkRows rows
};

}  // namespace brr::ir
