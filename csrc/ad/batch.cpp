// The batch executor's sweep: lane kernels where an op has one, lane by lane through a scalar
// Workspace where it has not.
#include "ad/batch.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <functional>

#include "ir/op_shapes.hpp"
#include "common/errors.hpp"
#include "common/transpose.hpp"
#include "ir/logp_ops.hpp"

namespace brr::ad {

const double* BatchCtx::v(int s) const {
  const Slot& sl = prog.slot(s);
  return sl.constant ? prog.constants().data() + sl.offset : ws.val.data() + sl.offset * B;
}
double* BatchCtx::out(int s) const {
  const Slot& sl = prog.slot(s);
  if (sl.constant) fail("internal: an op writes constant slot ", s, "; the Program is malformed");
  return ws.val.data() + sl.offset * B;
}

double* BatchCtx::a(int s) const {
  const Slot& sl = prog.slot(s);
  return (want_grad && sl.adj >= 0) ? ws.adj.data() + static_cast<std::size_t>(sl.adj) * B : nullptr;
}

double* BatchCtx::scratch(std::size_t doubles) {
  if (ws.scratch.size() < doubles) ws.scratch.resize(doubles);  // grows on the first evaluation only
  return ws.scratch.data();
}

BatchWorkspace make_batch_workspace(const Program& p, std::size_t lanes) {
  if (lanes < 1) fail("make_batch_workspace: lanes must be >= 1, got ", lanes);
  std::size_t val = 0, adj = 0;
  for (std::size_t s = 0; s < p.num_slots(); ++s) {
    const Slot& sl = p.slot(static_cast<int>(s));
    if (!sl.constant) val = std::max(val, sl.offset + sl.size);
    if (sl.adj >= 0) adj = std::max(adj, static_cast<std::size_t>(sl.adj) + sl.size);
  }
  BatchWorkspace ws;
  ws.lanes = lanes;
  ws.val.assign(val * lanes, 0.0);
  ws.adj.assign(adj * lanes, 0.0);
  ws.target.assign(lanes, 0.0);
  ws.failure.assign(lanes, Divergence::None);
  for (const Op& op : p.ops()) ws.native.push_back(batch_supported(op, p) ? 1 : 0);
  ws.logp_ops = ir::logp_ops(p);
  ws.adj_zero = ir::adjoint_ranges(p, ws.logp_ops);
  return ws;
}

std::size_t native_op_count(const Program& p) {
  std::size_t k = 0;
  for (const Op& op : p.ops()) k += batch_supported(op, p) ? 1 : 0;
  return k;
}

namespace {

// Lane b of slot s between the interleaved buffer and a scalar one (values, or adjoints with adj).
void lane_in(const Program& p, const BatchWorkspace& ws, Workspace& lw, int s, std::size_t b, bool adj) {
  const Slot& sl = p.slot(s);
  if (sl.constant || (adj && sl.adj < 0)) return;
  const std::size_t B = ws.lanes, off = adj ? static_cast<std::size_t>(sl.adj) : sl.offset;
  const double* src = (adj ? ws.adj.data() : ws.val.data()) + off * B + b;
  double* dst = (adj ? lw.adj.data() : lw.val.data()) + off;
  for (std::size_t i = 0; i < sl.size; ++i) dst[i] = src[i * B];
}

void lane_out(const Program& p, BatchWorkspace& ws, const Workspace& lw, int s, std::size_t b, bool adj) {
  const Slot& sl = p.slot(s);
  if (sl.constant || (adj && sl.adj < 0)) return;
  const std::size_t B = ws.lanes, off = adj ? static_cast<std::size_t>(sl.adj) : sl.offset;
  const double* src = (adj ? lw.adj.data() : lw.val.data()) + off;
  double* dst = (adj ? ws.adj.data() : ws.val.data()) + off * B + b;
  for (std::size_t i = 0; i < sl.size; ++i) dst[i * B] = src[i];
}

void ensure_lanes(const Program& p, BatchWorkspace& ws) {
  if (ws.lane.size() == ws.lanes) return;
  ws.lane.clear();
  for (std::size_t b = 0; b < ws.lanes; ++b) ws.lane.push_back(make_workspace(p, 1));
}

// Densities add their partials going forward, so their inputs' adjoints travel with them.
void lanes_forward(const Program& p, BatchWorkspace& ws, const Op& op, bool want_grad) {
  ensure_lanes(p, ws);
  const bool adj = want_grad && is_density(op.code);
  for (std::size_t b = 0; b < ws.lanes; ++b) {
    Workspace& lw = ws.lane[b];
    for (int s : op.in) {
      lane_in(p, ws, lw, s, b, false);
      if (adj) lane_in(p, ws, lw, s, b, true);
    }
    Ctx c{p, lw, want_grad};
    lw.failure = Divergence::None;
    forward(op, c);
    ws.target[b] += c.target;
    if (lw.failure != Divergence::None) {  // as logp_grad's: the lane's density fails, and says why
      ws.target[b] = std::numeric_limits<double>::quiet_NaN();
      if (ws.failure[b] == Divergence::None) ws.failure[b] = lw.failure;
    }
    if (op.out >= 0) lane_out(p, ws, lw, op.out, b, false);
    if (adj)
      for (int s : op.in) lane_out(p, ws, lw, s, b, true);
  }
}

// The values are still in each lane's workspace from the forward sweep (every slot is written once).
void lanes_backward(const Program& p, BatchWorkspace& ws, const Op& op) {
  for (std::size_t b = 0; b < ws.lanes; ++b) {
    Workspace& lw = ws.lane[b];
    if (op.out >= 0) lane_in(p, ws, lw, op.out, b, true);
    for (int s : op.in) lane_in(p, ws, lw, s, b, true);
    Ctx c{p, lw, true};
    backward(op, c);
    for (int s : op.in) lane_out(p, ws, lw, s, b, true);
  }
}

}  // namespace

void logp_grad_batch(const Program& p, BatchWorkspace& ws, const double* X, double* G, double* lp) {
  const std::size_t B = ws.lanes, d = p.dim();
  const bool want_grad = G != nullptr;
  if (ws.native.size() != p.ops().size()) fail("logp_grad_batch: the workspace was made for another program");
  transpose(X, B, d, ws.val.data());  // the parameters' slots are the first d elements
  std::fill(ws.target.begin(), ws.target.end(), 0.0);
  std::fill(ws.failure.begin(), ws.failure.end(), Divergence::None);
  if (want_grad)  // interleaved: element i of lane b at i * B + b, so a range spans B times its length
    for (const auto& [b, e] : ws.adj_zero) std::memset(ws.adj.data() + b * B, 0, (e - b) * B * sizeof(double));
  BatchCtx c{p, ws, want_grad, B};
  const auto& ops = p.ops();
  std::vector<char>& ran_native = ws.scratch_flags;
  ran_native.assign(ops.size(), 0);
  for (std::size_t k : ws.logp_ops) {
    if (ws.native[k] && batch_forward(ops[k], c)) ran_native[k] = 1;
    else lanes_forward(p, ws, ops[k], want_grad);
  }
  if (want_grad) {
    for (auto it = ws.logp_ops.rbegin(); it != ws.logp_ops.rend(); ++it) {
      const std::size_t k = *it;
      const Op& op = ops[k];
      if (is_density(op.code)) continue;  // partials were added going forward
      if (op.out >= 0 && c.a(op.out) == nullptr) continue;
      if (ran_native[k]) batch_backward(op, c);
      else lanes_backward(p, ws, op);
    }
    transpose(ws.adj.data(), d, B, G);
  }
  std::copy(ws.target.begin(), ws.target.end(), lp);
}

BatchEvaluator::BatchEvaluator(std::shared_ptr<const Program> p, std::size_t lanes, int threads, std::size_t tile)
    : p_(std::move(p)), lanes_(lanes), threads_(threads) {
  if (lanes < 1) fail("BatchEvaluator: lanes must be >= 1, got ", lanes);
  if (threads < 1) fail("BatchEvaluator: threads must be >= 1, got ", threads);
  if (tile != kAuto) setup(tile, threads);
}

void BatchEvaluator::setup(std::size_t tile, int threads) {
  tile_ = tile;
  first_.clear();
  ws_.clear();
  scalar_.clear();
  pool_.reset();
  std::size_t tasks = lanes_;
  if (tile == kScalar) {
    for (std::size_t b = 0; b < lanes_; ++b) scalar_.push_back(make_workspace(*p_, 1));
  } else {
    for (std::size_t b = 0; b < lanes_; b += tile) first_.push_back(b);
    first_.push_back(lanes_);
    for (std::size_t g = 0; g + 1 < first_.size(); ++g) ws_.push_back(make_batch_workspace(*p_, first_[g + 1] - first_[g]));
    tasks = ws_.size();
  }
  const std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(threads), tasks);
  if (workers > 1) pool_ = std::make_unique<RowPool>(static_cast<int>(workers));
}

void BatchEvaluator::run(const double* X, double* G, double* lp) {
  const std::size_t d = p_->dim();
  std::function<void(std::size_t, int)> task;
  std::size_t tasks;
  if (tile_ == kScalar) {
    tasks = lanes_;
    task = [&](std::size_t b, int) {
      lp[b] = ad::logp_grad(*p_, scalar_[b], ConstSpan{X + b * d, d}, Span{G ? G + b * d : nullptr, G ? d : 0});
    };
  } else {
    tasks = ws_.size();
    task = [&](std::size_t g, int) {
      const std::size_t b0 = first_[g];
      logp_grad_batch(*p_, ws_[g], X + b0 * d, G ? G + b0 * d : nullptr, lp + b0);
    };
  }
  if (pool_) pool_->run(tasks, task);
  else
    for (std::size_t t = 0; t < tasks; ++t) task(t, 0);
  failures_.assign(lanes_, Divergence::None);
  if (tile_ == kScalar)
    for (std::size_t b = 0; b < lanes_; ++b) failures_[b] = scalar_[b].failure;
  else
    for (std::size_t g = 0; g < ws_.size(); ++g)
      std::copy(ws_[g].failure.begin(), ws_[g].failure.end(), failures_.begin() + static_cast<std::ptrdiff_t>(first_[g]));
}

void BatchEvaluator::logp_grad(const double* X, double* G, double* lp) {
  if (tile_ != kAuto) return run(X, G, lp);
  // The first call: time each way (lane kernels or scalar lanes, on all the threads or on one, since
  // handing tiny evaluations to a pool can cost more than it saves) on these points, one warm-up then
  // the best of two, and keep the fastest. A model whose one evaluation of all lanes takes long is
  // left to the scalar way on all threads, untimed.
  using Clock = std::chrono::steady_clock;
  auto timed = [&](std::size_t tile, int threads) {
    setup(tile, threads);
    auto t0 = Clock::now();
    run(X, G, lp);
    const double warm = std::chrono::duration<double>(Clock::now() - t0).count();
    double best = warm;
    if (warm < 0.05)
      for (int r = 0; r < 2; ++r) {
        t0 = Clock::now();
        run(X, G, lp);
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
      }
    return std::pair<double, double>{warm, best};
  };
  const auto scalar = timed(kScalar, threads_);
  if (scalar.first > 0.2) return;  // stays so; lp and G hold its results
  std::pair<std::size_t, int> pick{kScalar, threads_};
  double fastest = scalar.second;
  auto consider = [&](std::size_t tile, int threads) {
    const double t = timed(tile, threads).second;
    if (t < fastest) fastest = t, pick = {tile, threads};
  };
  // tiles: the default, 16, and one group per thread (the widest sharing of index and data reads);
  // which wins depends on the model's working set per lane against the caches
  std::vector<std::size_t> tiles{kDefaultTile, 16, (lanes_ + threads_ - 1) / static_cast<std::size_t>(threads_), lanes_};
  std::sort(tiles.begin(), tiles.end());
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
  std::vector<int> thread_counts{threads_};
  if (threads_ > 1) thread_counts.push_back(1);
  for (int threads : thread_counts) {
    if (threads != threads_) consider(kScalar, threads);
    for (std::size_t tile : tiles)  // one group of all lanes cannot use more than one thread
      if (tile <= lanes_ && (threads == 1 || tile < lanes_)) consider(tile, threads);
  }
  setup(pick.first, pick.second);
}

}  // namespace brr::ad
