// Lane-interleaved evaluation of one Program at B points at once (the CPU batch executor).
// Every non-constant slot holds element i of lane b at (offset + i) * B + b, so an op reads its index
// arrays and data once for all B points and its inner loop runs over contiguous lanes (vectorised).
// Constants are stored once and shared by every lane. Ops with a lane kernel (batch_kernels.cpp) run
// natively; every other op runs lane by lane on a scalar Workspace per lane, its slots copied in and
// out. Each lane's arithmetic is that of Program::logp_grad in the same order, so lane b's logp and
// gradient equal a scalar evaluation at X[b] bit for bit (tested): a sampler may switch freely.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "ad/executor.hpp"
#include "common/row_pool.hpp"

namespace brr::ad {

struct BatchWorkspace {
  std::size_t lanes = 0;
  std::vector<double> val, adj;       // interleaved: (offset + i) * lanes + b
  std::vector<double> target;         // one per lane
  std::vector<Divergence> failure;    // one per lane, this evaluation: an op that failed (Workspace's)
  std::vector<double> scratch;        // lane kernels' temporaries, grown on first use
  std::vector<char> native;           // by op: has a lane kernel
  std::vector<char> scratch_flags;    // by op, this evaluation: its lane kernel ran (densities may decline)
  std::vector<Workspace> lane;        // scalar workspaces for the other ops (empty when all are native)
  std::vector<std::size_t> logp_ops;  // ir::logp_ops: the ops a sweep runs
  std::vector<std::pair<std::size_t, std::size_t>> adj_zero;  // ir::adjoint_ranges of those (per lane)
};

// What a lane kernel sees.
struct BatchCtx {
  const Program& prog;
  BatchWorkspace& ws;
  bool want_grad;
  std::size_t B;

  bool varies(int s) const { return !prog.slot(s).constant; }  // false: one value per element, shared
  const double* v(int s) const;  // read-only, a constant slot's too
  double* out(int s) const;      // an op's own output, to write
  double* a(int s) const;  // nullptr when the slot needs no gradient or grad is off
  std::size_t n(int s) const { return prog.slot(s).size; }
  const int32_t* index(int id) const { return prog.index(id).data(); }
  std::size_t index_len(int id) const { return prog.index(id).size(); }
  double* scratch(std::size_t doubles);
};

BatchWorkspace make_batch_workspace(const Program& p, std::size_t lanes);
// X, G: lanes x dim, row-major; lp: lanes. G may be null (logp only).
void logp_grad_batch(const Program& p, BatchWorkspace& ws, const double* X, double* G, double* lp);
// The number of the program's ops that run through a lane kernel (the rest run lane by lane).
std::size_t native_op_count(const Program& p);

// B points of one program on `threads` threads, in one of two ways that give the same results bit for
// bit: lane kernels over groups of `tile` lanes (each group one BatchWorkspace; small tiles keep a
// sweep's working set in cache, large ones share index and data reads more widely), or kScalar: one
// scalar evaluation per lane. kAuto times both ways (tiles of 8, 16, one group per thread and all
// lanes), on `threads` threads and on one, at the first call and keeps the fastest; since the results
// are equal, the choice changes speed only, never draws.
class BatchEvaluator {
 public:
  static constexpr std::size_t kAuto = 0;
  static constexpr std::size_t kScalar = static_cast<std::size_t>(-1);
  static constexpr std::size_t kDefaultTile = 8;

  BatchEvaluator(std::shared_ptr<const Program> p, std::size_t lanes, int threads, std::size_t tile = kAuto);
  std::size_t lanes() const { return lanes_; }
  std::size_t dim() const { return p_->dim(); }
  std::size_t tile() const { return tile_; }  // kAuto until the first call has picked one
  int workers() const { return pool_ ? pool_->size() : 1; }  // threads in use
  // X, G: lanes x dim (G null: logp only); lp: lanes
  void logp_grad(const double* X, double* G, double* lp);
  // why lane b of the last call failed (an ODE solve that stopped short), None when it did not
  Divergence failure(std::size_t b) const { return b < failures_.size() ? failures_[b] : Divergence::None; }

 private:
  void setup(std::size_t tile, int threads);
  void run(const double* X, double* G, double* lp);
  std::shared_ptr<const Program> p_;
  std::size_t lanes_, tile_ = kAuto;
  int threads_;
  std::vector<std::size_t> first_;  // group g holds lanes [first_[g], first_[g + 1])
  std::vector<BatchWorkspace> ws_;
  std::vector<Divergence> failures_;  // the last call's, per lane (kept across the first call's setups)
  std::vector<Workspace> scalar_;   // kScalar: one per lane
  std::unique_ptr<RowPool> pool_;
};

// Lane kernels (batch_kernels.cpp): batch_supported decides once per op, from its codes and input
// kinds; batch_forward may still decline one call (returns false: that call runs lane by lane), which
// only densities do, as they have no backward.
bool batch_supported(const Op& op, const Program& p);
bool batch_forward(const Op& op, BatchCtx& c);
void batch_backward(const Op& op, BatchCtx& c);

}  // namespace brr::ad
