// The device executor: a Program's logp and gradient at B points through the functors of
// grid_kernels.hpp, launched over index grids by a device policy Dev:
//   Dev::Buf<T>, Dev::alloc<T>(n), Dev::upload(vector<T>) -> Buf<T>, Dev::ptr(buf),
//   Dev::to_device(dst, src, n), Dev::to_host(dst, src, n), Dev::zero(p, n), Dev::launch(n, functor).
// (copies and zeroing for any element type T). HostDev (host_dev.hpp) runs each grid as a loop, so
// the CPU tests check it against the scalar executor; CudaDev (cuda/grid_executor.cu) launches one
// thread per index. The program's data, constants and index arrays are copied to the device once
// (GridData, grid_data.hpp, which several executors may share); per call only the B points go in and
// the B gradients come out, or, for leapfrog(), a whole trajectory's two ends. Header-only and using
// Program's inline members only, so the CUDA module compiles it without linking the core.
//
// Every op has a device kernel except the ODE solve; it, or an op whose inputs are of a kind its kernel
// does not take (grid_supported), makes the constructor throw, naming its code. A Scan runs its step
// Function's body on an executor of its own (same lanes), one step after another: T launches of the
// body's kernels forward and, for the gradient, T reverse steps of forward-then-backward sweeps, as the
// CPU's vector-Jacobian products do (ad/ops_scan.cpp).
#pragma once
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/grid_data.hpp"
#include "backend/leapfrog_kernels.hpp"
#include "ir/logp_ops.hpp"
#include "ops/all.hpp"
#include "ir/glm_codes.hpp"

namespace brr::backend {

template <class Dev>
class GridExecutor {
 public:
  GridExecutor(std::shared_ptr<const Program> p, std::size_t lanes)
      : GridExecutor(std::make_shared<const GridData<Dev>>(std::move(p)), lanes) {}

  // an executor of B lanes over device data built once (and perhaps shared with other executors)
  GridExecutor(std::shared_ptr<const GridData<Dev>> data, std::size_t lanes) : d_(std::move(data)), p_(d_->program), B_(lanes) {
    if (B_ < 1) throw std::invalid_argument("device executor: lanes must be >= 1");
    const Program& P = *p_;
    std::size_t val = 0, adj = 0, most = 1, lane_scratch = 1;
    for (std::size_t s = 0; s < P.num_slots(); ++s) {
      const ir::Slot& sl = P.slot(static_cast<int>(s));
      if (!sl.constant) val = std::max(val, sl.offset + sl.size);
      if (sl.adj >= 0) adj = std::max(adj, static_cast<std::size_t>(sl.adj) + sl.size);
      most = std::max(most, sl.size);
    }
    for (const Op& op : P.ops()) {
      for (int i : op.idx) most = std::max(most, P.index(i).size());
      if (op.code == OpCode::OrderedLogisticLpmf || op.code == OpCode::OrderedProbitLpmf)  // per-category sums
        most = std::max(most, static_cast<std::size_t>(op.ip[1]) + 1);
      if (op.code == OpCode::HmmLogLik)  // per-lane working space of the forward algorithm
        lane_scratch = std::max(lane_scratch, ad::hmm::scratch_size(static_cast<std::size_t>(op.ip[1]),
                                                                   static_cast<std::size_t>(op.ip[2])));
    }
    val_ = alloc(std::max<std::size_t>(val, 1) * B_);
    adj_size_ = std::max<std::size_t>(adj, 1) * B_;
    adj_ = alloc(adj_size_);
    target_ = alloc(B_);
    const std::size_t S = most * B_;
    for (auto* b : {&t_, &g_, &d0_, &d1_, &d2_, &d3_}) *b = alloc(S);
    part_ = alloc(std::max<std::size_t>(reduce_partials(most), 1) * B_);
    seg_ = alloc(std::max<std::size_t>(d_->most_partials, 1) * B_);
    lane_ = alloc(4 * B_);
    scr_ = alloc(lane_scratch * B_);
    plan();
    logp_ops_ = ir::logp_ops(P);
    xfer_ = alloc(B_ > 1 ? std::max<std::size_t>(P.dim(), 1) * B_ : 1);
    fns_.resize(P.num_functions());
    for (std::size_t id = 0; id < fns_.size(); ++id)
      if (d_->fns[id]) {
        fns_[id] = std::make_unique<GridExecutor>(d_->fns[id], B_);
        bytes_ += fns_[id]->bytes_;
      }
  }

  // the device data (constants, indices, row lists), to build more executors over the same copy
  const std::shared_ptr<const GridData<Dev>>& data() const { return d_; }
  // device memory this executor holds for its lanes (the shared data not counted)
  std::size_t workspace_bytes() const { return bytes_; }

  std::size_t lanes() const { return B_; }
  std::size_t dim() const { return p_->dim(); }

  // X, G: B x dim on the host (G null: logp only); lp: B
  void logp_grad(const double* X, double* G, double* lp) {
    put_lanes(X, Dev::ptr(val_));
    sweep_forward(G != nullptr);
    if (want_grad_) {
      sweep_backward();
      get_lanes(Dev::ptr(adj_), G);
    }
    Dev::to_host(lp, Dev::ptr(target_), B_);
  }

  // L leapfrog steps of every lane with positions, momenta and gradients kept on the device, so that
  // only the trajectories' ends cross: Q, P, G (B x dim on the host, row-major) and LP (B) hold the
  // starts in and the ends out. Each step of a live lane: p += eps/2 g, q += eps minv p, (lp, g) at q,
  // then p += eps/2 g if lp and g are finite; otherwise the lane stops there (ok[b] = 0, its q, lp and
  // g those of the point it could not use, p after the first half kick). evals[b]: lane b's
  // evaluations. Once no lane is live (checked every kLiveCheck steps) the rest are skipped.
  void leapfrog(double* Q, double* P, double* G, double* LP, unsigned char* ok, long long* evals,
                const double* minv, double eps, int L) {
    const std::size_t d = p_->dim(), n = d * B_;
    if (!lf_) lf_ = std::make_unique<Trajectory>(*this, d);
    Trajectory& t = *lf_;
    put_lanes(Q, Dev::ptr(val_));
    put_lanes(P, Dev::ptr(t.p));
    put_lanes(G, Dev::ptr(t.g));
    Dev::to_device(Dev::ptr(t.lp), LP, B_);
    Dev::to_device(Dev::ptr(t.minv), minv, d);
    std::vector<unsigned char> live(B_, 1);
    Dev::to_device(Dev::ptr(t.ok), live.data(), B_);
    Dev::zero(Dev::ptr(t.evals), B_);
    double* q = Dev::ptr(val_);
    for (int s = 0; s < L; ++s) {
      if (s > 0 && s % kLiveCheck == 0) {
        Dev::to_host(live.data(), Dev::ptr(t.ok), B_);
        if (std::find(live.begin(), live.end(), 1) == live.end()) break;
      }
      Dev::launch(n, grid::LeapDrift{q, Dev::ptr(t.p), Dev::ptr(t.g), Dev::ptr(t.minv), Dev::ptr(t.ok), eps, B_});
      sweep_forward(true);
      sweep_backward();
      Dev::launch(B_, grid::LeapUsable{Dev::ptr(target_), Dev::ptr(adj_), Dev::ptr(t.usable), d, B_});
      Dev::launch(n, grid::LeapKick{Dev::ptr(t.p), Dev::ptr(t.g), Dev::ptr(adj_), Dev::ptr(t.ok), Dev::ptr(t.usable), eps, B_});
      Dev::launch(B_, grid::LeapLanes{Dev::ptr(t.lp), Dev::ptr(target_), Dev::ptr(t.ok), Dev::ptr(t.usable), Dev::ptr(t.evals)});
    }
    get_lanes(q, Q);
    get_lanes(Dev::ptr(t.p), P);
    get_lanes(Dev::ptr(t.g), G);
    Dev::to_host(LP, Dev::ptr(t.lp), B_);
    Dev::to_host(ok, Dev::ptr(t.ok), B_);
    Dev::to_host(evals, Dev::ptr(t.evals), B_);
    ++trajectories_;
  }
  // how many leapfrog() calls this executor has run (a run's trajectories that stayed on the device)
  long long trajectories() const { return trajectories_; }

 private:
  using Buf = typename Dev::template Buf<double>;
  using TBuf = typename Dev::template Buf<grid::GlmTerm>;

  using Lists = typename GridData<Dev>::OpLists;

  struct Plan {          // what an op needs beyond its slots and the shared lists, for these lanes
    TBuf terms;          // GLM terms (device copies of pointers into these lanes' values)
    Buf lam;             // Scan: the adjoint carried back to x[t-1] (n x B)
  };

  Buf alloc(std::size_t n) {
    bytes_ += n * sizeof(double);
    return Dev::template alloc<double>(n);
  }

  static constexpr int kLiveCheck = 8;  // leapfrog steps between checks whether any lane is live

  struct Trajectory {  // leapfrog()'s device buffers, made at its first call
    Buf p, g, lp, minv;
    typename Dev::template Buf<unsigned char> ok, usable;
    typename Dev::template Buf<long long> evals;
    Trajectory(GridExecutor& ex, std::size_t d)
        : p(ex.alloc(d * ex.B_)), g(ex.alloc(d * ex.B_)), lp(ex.alloc(ex.B_)), minv(ex.alloc(d)),
          ok(Dev::template alloc<unsigned char>(ex.B_)), usable(Dev::template alloc<unsigned char>(ex.B_)),
          evals(Dev::template alloc<long long>(ex.B_)) {
      ex.bytes_ += ex.B_ * (2 + sizeof(long long));
    }
  };

  // X (B x dim, host, row-major) into the lane-interleaved layout at dev (element i of lane b at i B + b):
  // copied as it is, then rearranged on the device (a host loop over B x dim doubles each way would cost
  // more than a short trajectory's kernels); one lane needs no rearranging
  void put_lanes(const double* X, double* dev) {
    const std::size_t d = p_->dim();
    if (B_ == 1) return Dev::to_device(dev, X, d);
    Dev::to_device(Dev::ptr(xfer_), X, d * B_);
    Dev::launch(d * B_, grid::RowsToLanes{Dev::ptr(xfer_), dev, d, B_});
  }
  void get_lanes(const double* dev, double* X) {
    const std::size_t d = p_->dim();
    if (B_ == 1) return Dev::to_host(X, dev, d);
    Dev::launch(d * B_, grid::LanesToRows{dev, Dev::ptr(xfer_), d, B_});
    Dev::to_host(X, Dev::ptr(xfer_), d * B_);
  }

  // every op forward from the values in val_ (slot 0 onwards), the target from zero; with grad, the
  // adjoints from zero
  void sweep_forward(bool grad) {
    Dev::zero(Dev::ptr(target_), B_);
    want_grad_ = grad;
    if (want_grad_) Dev::zero(Dev::ptr(adj_), adj_size_);
    for (std::size_t k : logp_ops_) forward(k);
  }

  void sweep_backward() {
    const auto& ops = P().ops();
    for (auto it = logp_ops_.rbegin(); it != logp_ops_.rend(); ++it) {
      const std::size_t k = *it;
      const Op& op = ops[k];
      if (static_cast<int>(op.code) >= 400) continue;  // densities add their partials going forward
      if (op.out >= 0 && !a(op.out)) continue;
      backward(k);
    }
  }

  const Program& P() const { return *p_; }
  struct SpecView {  // this executor as an op spec sees it (ops/spec.hpp): one grid index per item
    static constexpr bool kRowsInOrder = false;  // items run at once: shared adjoints through group_sums
    GridExecutor& g;
    std::size_t lanes() const { return g.B_; }
    double* v(int s) const { return g.v(s); }
    double* out(int s) const { return g.v(s); }
    double* a(int s) const { return g.a(s); }
    std::size_t n(int s) const { return g.n(s); }
    bool varies(int s) const { return g.varies(s); }
    template <std::size_t Block = ops::kBlock, class F>  // Block: the host's; one item per thread here
    void items(std::size_t count, const F& f) const { Dev::launch(count, ops::OneItem<F>{f}); }
    double* work(std::size_t, int k) const { return g.buf(k ? g.d1_ : g.d0_); }  // each the largest slot's size
    double* target() const { return g.buf(g.target_); }
    template <class F>
    void chain_sum(std::size_t n, const F& f, double* out) const {
      Dev::launch(n * g.B_, grid::LaneTerms<F>{f, g.buf(g.t_), g.B_});
      g.reduce(g.buf(g.t_), n, out, true);
    }
    template <class F>
    void chain_acc(std::size_t n, const F& f, double init, double* out) const {
      Dev::launch(n * g.B_, grid::LaneAcc<F>{f, g.buf(g.t_), g.B_});
      g.reduce(g.buf(g.t_), n, out, true, 1.0, init);
    }
    void sum_slot(int s, double* out, bool add) const { g.reduce(g.v(s), g.n(s), out, add); }
    double* group_sums(const Op& op, const double* t, int k) const {
      const Lists& ls = g.d_->lists[static_cast<std::size_t>(&op - g.P().ops().data())];
      double* out = g.buf(k ? g.d3_ : g.d2_);
      g.seg_sum(ls.cuts, ls.groups, grid::RowsTerm{Dev::ptr(ls.rows), t, nullptr, g.B_}, out, false);
      return out;
    }
  };
  double* v(int s) const {
    const ir::Slot& sl = P().slot(s);
    return sl.constant ? const_cast<double*>(Dev::ptr(d_->cst)) + sl.offset : const_cast<double*>(Dev::ptr(val_)) + sl.offset * B_;
  }
  double* a(int s) const {
    const ir::Slot& sl = P().slot(s);
    return (want_grad_ && sl.adj >= 0) ? const_cast<double*>(Dev::ptr(adj_)) + static_cast<std::size_t>(sl.adj) * B_ : nullptr;
  }
  std::size_t n(int s) const { return P().slot(s).size; }
  bool varies(int s) const { return !P().slot(s).constant; }
  grid::Arg arg(int s, std::size_t n_out) const { return ops::lane_arg(v(s), varies(s), n(s) == n_out, B_); }
  grid::Arg scalar_arg(int s) const {  // a size-1 input that every row reads: element stride 0
    grid::Arg x = arg(s, 1);
    x.es = 0;
    return x;
  }
  const int32_t* ix(int id) const { return Dev::ptr(d_->idx[static_cast<std::size_t>(id)]); }
  std::size_t ix_len(int id) const { return P().index(id).size(); }
  double* buf(Buf& b) const { return const_cast<double*>(Dev::ptr(b)); }

  // out[b] (+)= offset + scale * sum_i t[i, b] over n rows: sums of kChunk rows, then sums of kChunk of
  // those, ..., until one thread per lane adds up at most kChunk (a few launches for millions of rows)
  void reduce(const double* t, std::size_t rows, double* out, bool add, double scale = 1.0, double offset = 0.0) {
    const double* src = t;
    double* part = buf(part_);
    std::size_t n = rows;
    while (n > grid::kChunk) {
      const std::size_t chunks = (n - 1) / grid::kChunk + 1;
      Dev::launch(chunks * B_, grid::ChunkSums{src, part, n, B_});
      src = part;
      part += chunks * B_;
      n = chunks;
    }
    Dev::launch(B_, grid::ChunkTotal{src, out, n, B_, scale, offset, add});
  }

  // partial sums reduce() keeps for n rows, per lane
  static std::size_t reduce_partials(std::size_t n) {
    std::size_t total = 0;
    for (; n > grid::kChunk; n = (n - 1) / grid::kChunk + 1) total += (n - 1) / grid::kChunk + 1;
    return total;
  }

  // out[j, b] (= or +=) the sum over segment j of `term` (segment_sums.hpp) for `segments` segments as
  // `c` cuts them: with no cuts one thread per (segment, lane); else pieces, level after level
  template <class Term>
  void seg_sum(const typename GridData<Dev>::Cuts& c, std::size_t segments, const Term& term, double* out, bool add) {
    if (c.bounds.empty()) {
      Dev::launch(segments * B_, grid::SegmentTotals<Term>{Dev::ptr(c.last_start), term, out, add, B_});
      return;
    }
    double* part = buf(seg_);
    Dev::launch(c.pieces[0] * B_, grid::PieceSums<Term>{Dev::ptr(c.bounds[0]), term, part, B_});
    for (std::size_t l = 1; l < c.bounds.size(); ++l) {
      double* next = part + c.pieces[l - 1] * B_;
      Dev::launch(c.pieces[l] * B_, grid::PieceSums<grid::PartialTerm>{Dev::ptr(c.bounds[l]), {part, B_}, next, B_});
      part = next;
    }
    Dev::launch(segments * B_, grid::SegmentTotals<grid::PartialTerm>{Dev::ptr(c.last_start), {part, B_}, out, add, B_});
  }

  void plan() {
    const Program& Pr = P();
    plans_.resize(Pr.ops().size());
    for (std::size_t k = 0; k < Pr.ops().size(); ++k) {
      const Op& op = Pr.ops()[k];
      if (op.code == OpCode::GlmLpdf) plan_terms(op, plans_[k], ir::kGlmHeader, n(op.in[static_cast<std::size_t>(op.ip[1])]));
      if (op.code == OpCode::LinearPredictor) plan_terms(op, plans_[k], 0, n(op.out));
      if (op.code == OpCode::Scan) plans_[k].lam = alloc(static_cast<std::size_t>(op.ip[2]) * B_);
    }
  }

  // a term list (ip from `first`, 4 ints per term: kind, value input, index position, data input) as
  // device GlmTerms
  void plan_terms(const Op& op, Plan& pl, std::size_t first, std::size_t nrows) {
    std::vector<grid::GlmTerm> ts;
    for (std::size_t q = first; q < op.ip.size(); q += 4) {
      const int64_t kind = op.ip[q], vi = op.ip[q + 1], xi = op.ip[q + 2], di = op.ip[q + 3];
      const int vs = op.in[static_cast<std::size_t>(vi)];
      grid::GlmTerm t;
      t.kind = kind;
      t.v = arg(vs, kind == kTermDense ? nrows : n(vs));
      if (kind == kTermScalar) t.v.es = 0;
      if (kind == kTermScaled) t.s = scalar_arg(op.in[static_cast<std::size_t>(xi)]);  // the scalar's input position
      else t.ix = xi >= 0 ? ix(op.idx[static_cast<std::size_t>(xi)]) : nullptr;
      t.d = di >= 0 ? v(op.in[static_cast<std::size_t>(di)]) : nullptr;
      ts.push_back(t);
    }
    bytes_ += ts.size() * sizeof(grid::GlmTerm);
    pl.terms = Dev::upload(ts);
  }

  // each term's value adjoint from g = d target / d eta per row (B lanes): segmented sums for gathers,
  // a reduction for scalars, in place for dense terms (both for a scaled dense term)
  void term_adjoints(const Op& op, const Lists& ls, std::size_t first, const double* g, std::size_t rows) {
    std::size_t q = 0;
    for (std::size_t at = first; at < op.ip.size(); at += 4, ++q) {
      const int64_t kind = op.ip[at];
      const int vs = op.in[static_cast<std::size_t>(op.ip[at + 1])];
      double* va = a(vs);
      const int64_t di = op.ip[at + 3];
      const double* d = di >= 0 ? v(op.in[static_cast<std::size_t>(di)]) : nullptr;
      if (kind == kTermScaled) {  // s * v[r]: v's adjoint s * (d g) in place, s's the rows' sum of v * (d g)
        const int ss = op.in[static_cast<std::size_t>(op.ip[at + 2])];
        if (va) Dev::launch(rows * B_, grid::Scaled{g, d, va, true, B_, scalar_arg(ss)});
        if (double* sa = a(ss)) {
          Dev::launch(rows * B_, grid::Scaled{g, d, buf(d0_), false, B_, arg(vs, rows)});
          reduce(buf(d0_), rows, sa, true);
        }
        continue;
      }
      if (!va) continue;
      if (kind == kTermGather) {
        seg_sum(ls.term_cuts[q], n(vs), grid::RowsTerm{Dev::ptr(ls.term_rows[q]), g, d, B_}, va, true);
      } else if (kind == kTermScalar) {
        Dev::launch(rows * B_, grid::Scaled{g, d, buf(d0_), false, B_});
        reduce(buf(d0_), rows, va, true);
      } else {
        Dev::launch(rows * B_, grid::Scaled{g, d, va, true, B_});
      }
    }
  }

  void forward(std::size_t k) {
    const Op& op = P().ops()[k];
    const SpecView x{*this};
    if (ops::with_spec(op.code, [&](auto spec) { decltype(spec)::forward(op, x); })) return;
    Plan& pl = plans_[k];
    const Lists& ls = d_->lists[k];
    const int c = static_cast<int>(op.code);
    double* target = buf(target_);
    if (c < 100) {
      Dev::launch(n(op.out) * B_, grid::Unary{op.code, arg(op.in[0], n(op.out)), v(op.out), B_});
      return;
    }
    if (c < 200) {
      const std::size_t no = n(op.out);
      Dev::launch(no * B_, grid::Binary{op.code, arg(op.in[0], no), arg(op.in[1], no), v(op.out), B_});
      return;
    }
    if (c >= 400 && terms::univariate_arity(op.code) > 0) return univariate(op);
    switch (op.code) {
      case OpCode::CsrMatVec:
        Dev::launch(n(op.out) * B_, grid::CsrRows{ix(op.idx[0]), ix(op.idx[1]), v(op.in[0]), v(op.in[1]), v(op.out), B_});
        return;
      case OpCode::HmmLogLik: {
        const std::size_t S = static_cast<std::size_t>(op.ip[0]), T = static_cast<std::size_t>(op.ip[1]),
                          K = static_cast<std::size_t>(op.ip[2]);
        Dev::launch(B_, grid::HmmLane{arg(op.in[0], K), arg(op.in[1], K * K), arg(op.in[2], S * T * K), v(op.out), buf(scr_),
                                      S, T, K, B_});
        return;
      }
      case OpCode::LinearPredictor:
        Dev::launch(n(op.out) * B_, grid::LinPredRows{Dev::ptr(pl.terms), static_cast<int>(ls.term_rows.size()), v(op.out), B_});
        return;
      case OpCode::PointwiseLpdf: return pointwise(op);
      case OpCode::Gather:
        Dev::launch(n(op.out) * B_, grid::Gather{arg(op.in[0], n(op.in[0])), ix(op.idx[0]), v(op.out), B_});
        return;
      case OpCode::ScatterAdd:
        seg_sum(ls.cuts, n(op.out), grid::RowsTerm{Dev::ptr(ls.rows), v(op.in[0]), nullptr, B_}, v(op.out), false);
        return;
      case OpCode::DenseMatMul: {
        const std::size_t nn = static_cast<std::size_t>(op.ip[0]), kk = static_cast<std::size_t>(op.ip[1]),
                          m = static_cast<std::size_t>(op.ip[2]);
        Dev::launch(nn * m * B_, grid::MatMul{v(op.in[0]), v(op.in[1]), v(op.out), kk, m, B_});
        return;
      }
      case OpCode::IcarPairwiseLpdf: {
        const std::size_t m = ix_len(op.idx[0]);
        Dev::launch(m * B_, grid::IcarTerms{v(op.in[0]), ix(op.idx[0]), ix(op.idx[1]), buf(t_), B_});
        reduce(buf(t_), m, target, true, -0.5);
        if (double* pa = a(op.in[0]))
          seg_sum(ls.cuts, n(op.in[0]), grid::IcarEdgeTerm{v(op.in[0]), ix(op.idx[0]), ix(op.idx[1]), Dev::ptr(ls.rows), B_},
                  pa, true);
        return;
      }
      case OpCode::GlmLpdf: return glm(op, pl, ls);
      case OpCode::Scan: {
        const ScanDims sd(op);
        GridExecutor& f = *fns_[static_cast<std::size_t>(op.ip[0])];
        const int fo = P().function(static_cast<int>(op.ip[0])).out();
        for (std::size_t t = 0; t < sd.T; ++t) {
          scan_input(op, sd, f, t);
          f.sweep_forward(false);
          Dev::launch(sd.n * B_, grid::CopyRange{f.arg(fo, sd.n), v(op.out) + t * sd.n * B_, B_});
        }
        return;
      }
      default: throw std::logic_error("device executor: no forward kernel");
    }
  }

  // the density `code`'s first N inputs of op over `no` elements; with grad, where their partials go
  grid::DensityTerms density_terms(OpCode code, const Op& op, std::size_t no, bool grad) {
    grid::DensityTerms u{};
    u.code = code;
    u.N = terms::univariate_arity(code);
    double* dts[4] = {buf(d0_), buf(d1_), buf(d2_), buf(d3_)};
    for (int q = 0; q < u.N; ++q) {
      const int s = op.in[static_cast<std::size_t>(q)];
      u.in[q] = arg(s, no);
      u.adj[q] = grad ? a(s) : nullptr;
      u.full[q] = n(s) == no;
      u.d_t[q] = dts[q];
    }
    return u;
  }

  // the broadcast inputs' partials, written per element by a density kernel, summed into their adjoints
  void reduce_broadcast(const grid::DensityTerms& u, std::size_t no) {
    for (int q = 0; q < u.N; ++q)
      if (u.adj[q] && !u.full[q]) reduce(u.d_t[q], no, u.adj[q], true);
  }

  void univariate(const Op& op) {
    const int N = terms::univariate_arity(op.code);
    std::size_t no = 1;
    for (int q = 0; q < N; ++q) no = std::max(no, n(op.in[static_cast<std::size_t>(q)]));
    const grid::DensityTerms u = density_terms(op.code, op, no, true);
    Dev::launch(no * B_, grid::Univariate{u, buf(t_), B_});
    reduce(buf(t_), no, buf(target_), true, 1.0, op.dp.empty() ? 0.0 : op.dp[0]);
    reduce_broadcast(u, no);
  }

  void pointwise(const Op& op) {
    const auto code = static_cast<OpCode>(op.ip[0]);
    const std::size_t no = n(op.out);
    const bool with_terms = static_cast<int>(op.in.size()) == terms::univariate_arity(code) + 1;
    Dev::launch(no * B_, grid::Pointwise{density_terms(code, op, no, false), with_terms ? arg(op.in.back(), no) : grid::Arg{},
                                         v(op.out), B_});
  }

  void pointwise_back(const Op& op) {
    const std::size_t no = n(op.out);
    const grid::DensityTerms u = density_terms(static_cast<OpCode>(op.ip[0]), op, no, true);
    bool any = false;
    for (int q = 0; q < u.N; ++q) any = any || u.adj[q];
    if (!any) return;
    Dev::launch(no * B_, grid::PointwiseBack{u, a(op.out), B_});
    reduce_broadcast(u, no);
  }


  void glm(const Op& op, Plan& pl, const Lists& ls) {
    const int64_t fam = op.ip[0];
    const int y_slot = op.in[static_cast<std::size_t>(op.ip[1])];
    const std::size_t rows = n(y_slot);
    const int aux = op.ip[2] >= 0 ? op.in[static_cast<std::size_t>(op.ip[2])] : -1;
    const double* wt = op.ip[3] >= 0 ? v(op.in[static_cast<std::size_t>(op.ip[3])]) : nullptr;
    double* iv = buf(lane_);   // family 3: 1 / sigma^2, then the summed squares; family 4: phi, log phi, sums
    if (fam == 3) Dev::launch(B_, grid::InvVar{arg(aux, 1), iv});
    if (fam == 4) Dev::launch(B_, grid::PhiLane{arg(aux, 1), iv, B_});
    const int nt = static_cast<int>(ls.term_rows.size());
    Dev::launch(rows * B_, grid::GlmRows{fam, Dev::ptr(pl.terms), nt, v(y_slot), fam == 1 ? v(aux) : nullptr, wt, iv, iv,
                                         buf(t_), buf(g_), buf(d1_), B_});
    const double dp0 = op.dp.empty() ? 0.0 : op.dp[0];
    if (fam == 4) {
      double* phi_adj = a(aux);
      reduce(buf(t_), rows, iv + 2 * B_, false);
      if (phi_adj) reduce(buf(d1_), rows, iv + 3 * B_, false);
      Dev::launch(B_, grid::GlmNegBinTotal{iv, iv + 2 * B_, phi_adj ? iv + 3 * B_ : nullptr, buf(target_), phi_adj, dp0,
                                           static_cast<double>(rows), B_});
    } else if (fam == 3) {
      double* ss = buf(lane_) + B_;
      reduce(buf(t_), rows, ss, false);
      const double extra = op.dp.size() > 2 ? op.dp[1] : 0.0;
      const double nn = op.dp.size() > 2 ? op.dp[2] : static_cast<double>(rows);
      Dev::launch(B_, grid::GlmNormalTotal{arg(aux, 1), ss, iv, buf(target_), a(aux), dp0, extra, nn});
    } else {
      reduce(buf(t_), rows, buf(target_), true, 1.0, dp0);
    }
    if (want_grad_) term_adjoints(op, ls, ir::kGlmHeader, buf(g_), rows);
  }

  struct ScanDims {  // x[t] = f([x[t-1], u[t], theta]): T steps, n states, k inputs a step, p fixed inputs
    std::size_t T, n, k, p;
    explicit ScanDims(const Op& op)
        : T(static_cast<std::size_t>(op.ip[1])), n(static_cast<std::size_t>(op.ip[2])),
          k(static_cast<std::size_t>(op.ip[3])), p(static_cast<std::size_t>(op.ip[4])) {}
    int u_in() const { return k ? 1 : -1; }
    int theta_in() const { return p ? 1 + (k > 0) : -1; }
  };

  // the step's input [x[t-1], u[t], theta] into the body's slot 0, for every lane
  void scan_input(const Op& op, const ScanDims& sd, GridExecutor& f, std::size_t t) {
    const grid::Arg prev = t == 0 ? arg(op.in[0], sd.n) : grid::Arg{v(op.out) + (t - 1) * sd.n * B_, B_, 1};
    grid::Arg u{}, th{};
    if (sd.k) {
      u = arg(op.in[static_cast<std::size_t>(sd.u_in())], sd.T * sd.k);
      u.p += t * sd.k * u.es;
    }
    if (sd.p) th = arg(op.in[static_cast<std::size_t>(sd.theta_in())], sd.p);
    Dev::launch((sd.n + sd.k + sd.p) * B_, grid::ScanInput{prev, u, th, f.v(0), sd.n, sd.k, B_});
  }

  // backwards through the steps: lambda = xbar[t] + lambda, then [lambda, ubar[t], thetabar] +=
  // J_f^T lambda by a forward and a backward sweep of the body at step t's input
  void scan_back(const Op& op, Plan& pl) {
    const ScanDims sd(op);
    double* x0a = a(op.in[0]);
    double* ua = sd.k ? a(op.in[static_cast<std::size_t>(sd.u_in())]) : nullptr;
    double* tha = sd.p ? a(op.in[static_cast<std::size_t>(sd.theta_in())]) : nullptr;
    GridExecutor& f = *fns_[static_cast<std::size_t>(op.ip[0])];
    const int fo = P().function(static_cast<int>(op.ip[0])).out();
    if ((!x0a && !ua && !tha) || f.P().slot(fo).adj < 0 || f.P().slot(0).adj < 0) return;  // J_f = 0
    double* lam = buf(pl.lam);
    Dev::zero(lam, sd.n * B_);
    for (std::size_t t = sd.T; t-- > 0;) {
      scan_input(op, sd, f, t);
      f.sweep_forward(true);
      Dev::launch(sd.n * B_, grid::ScanSeed{a(op.out) + t * sd.n * B_, lam, f.a(fo)});
      f.sweep_backward();
      Dev::launch((sd.n + sd.k + sd.p) * B_, grid::ScanTake{f.a(0), lam, ua ? ua + t * sd.k * B_ : nullptr, tha, sd.n, sd.k, B_});
    }
    if (x0a) Dev::launch(sd.n * B_, grid::AddRange{lam, x0a});
  }

  void backward(std::size_t k) {
    const Op& op = P().ops()[k];
    const SpecView x{*this};
    if (ops::with_spec(op.code, [&](auto spec) { decltype(spec)::backward(op, x); })) return;
    Plan& pl = plans_[k];
    const Lists& ls = d_->lists[k];
    const int c = static_cast<int>(op.code);
    if (c < 100) {
      if (double* aa = a(op.in[0])) Dev::launch(n(op.out) * B_, grid::UnaryBack{op.code, v(op.in[0]), v(op.out), a(op.out), aa});
      return;
    }
    if (c < 200) {
      const std::size_t no = n(op.out);
      const grid::Arg x = arg(op.in[0], no), y = arg(op.in[1], no);
      for (int side = 0; side < 2; ++side) {
        const int s = op.in[static_cast<std::size_t>(side)];
        double* aa = a(s);
        if (!aa) continue;
        if (n(s) == no) {
          Dev::launch(no * B_, grid::BinaryBack{op.code, side == 0, true, x, y, v(op.out), a(op.out), aa, B_});
        } else {
          Dev::launch(no * B_, grid::BinaryBack{op.code, side == 0, false, x, y, v(op.out), a(op.out), buf(t_), B_});
          reduce(buf(t_), no, aa, true);
        }
      }
      return;
    }
    switch (op.code) {  // ops whose inputs each may or may not need a gradient
      case OpCode::LinearPredictor: return term_adjoints(op, ls, 0, a(op.out), n(op.out));
      case OpCode::PointwiseLpdf: return pointwise_back(op);
      case OpCode::Scan: return scan_back(op, pl);
      case OpCode::HmmLogLik: {
        double *gli = a(op.in[0]), *gA = a(op.in[1]), *ge = a(op.in[2]);
        if (!gli && !gA && !ge) return;
        const std::size_t S = static_cast<std::size_t>(op.ip[0]), T = static_cast<std::size_t>(op.ip[1]),
                          K = static_cast<std::size_t>(op.ip[2]);
        Dev::launch(B_, grid::HmmLaneBack{arg(op.in[0], K), arg(op.in[1], K * K), arg(op.in[2], S * T * K), a(op.out), gli,
                                          gA, ge, buf(scr_), S, T, K, B_});
        return;
      }
      default: break;
    }
    double* aa = a(op.in.back());
    if (!aa) return;
    switch (op.code) {
      case OpCode::CsrMatVec:
        seg_sum(ls.cuts, static_cast<std::size_t>(op.ip[1]),
                grid::CsrColumnTerm{Dev::ptr(ls.rows), Dev::ptr(ls.owner), v(op.in[0]), a(op.out), B_}, aa, true);
        return;
      case OpCode::Gather:
        seg_sum(ls.cuts, n(op.in[0]), grid::RowsTerm{Dev::ptr(ls.rows), a(op.out), nullptr, B_}, aa, true);
        return;
      case OpCode::ScatterAdd:
        Dev::launch(n(op.in[0]) * B_, grid::GatherAdd{a(op.out), ix(op.idx[0]), aa, B_});
        return;
      case OpCode::DenseMatMul: {
        const std::size_t nn = static_cast<std::size_t>(op.ip[0]), kk = static_cast<std::size_t>(op.ip[1]),
                          m = static_cast<std::size_t>(op.ip[2]);
        Dev::launch(kk * m * B_, grid::MatMulBack{v(op.in[0]), a(op.out), aa, nn, kk, m, B_});
        return;
      }
      default: throw std::logic_error("device executor: no backward kernel");
    }
  }

  std::shared_ptr<const GridData<Dev>> d_;
  std::shared_ptr<const Program> p_;
  std::size_t B_, adj_size_ = 0, bytes_ = 0;
  bool want_grad_ = false;
  Buf val_, adj_, target_, t_, g_, d0_, d1_, d2_, d3_, part_, seg_, lane_, scr_, xfer_;
  std::vector<Plan> plans_;
  std::vector<std::size_t> logp_ops_;  // ir::logp_ops: ops computing only deterministics are not swept
  std::vector<std::unique_ptr<GridExecutor>> fns_;  // by function id: the executors of Scan steps' bodies
  std::unique_ptr<Trajectory> lf_;  // leapfrog()'s buffers
  long long trajectories_ = 0;
};

}  // namespace brr::backend
