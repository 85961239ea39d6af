// The device executor: a Program's logp and gradient at B points through the functors of
// grid_kernels.hpp, launched over index grids by a device policy Dev:
//   Dev::Buf<T>, Dev::alloc<T>(n), Dev::upload(vector<T>) -> Buf<T>, Dev::ptr(buf),
//   Dev::to_device(dst, src, n), Dev::to_host(dst, src, n), Dev::zero(p, n), Dev::launch(n, functor).
// HostDev (host_dev.hpp) runs each grid as a loop, so the CPU tests check it against the scalar
// executor; CudaDev (cuda/grid_executor.cu) launches one thread per index. The program's data,
// constants and index arrays are copied to the device once, at construction; per call only the B
// points go in and the B gradients come out. Header-only and using Program's inline members only,
// so the CUDA module compiles it without linking the core.
//
// Ops with device kernels: elementwise, gather, scatter-add, sum, cumsum, target-add, dense data
// products, the bound transforms, the univariate densities, ICAR and the fused GLM (Bernoulli and
// Binomial logit, Poisson log, Normal). Another op makes the constructor throw, naming its code.
#pragma once
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/program.hpp"
#include "backend/grid_kernels.hpp"

namespace brr::backend {

using ir::Op;
using ir::OpCode;
using ir::Program;
namespace terms = ad::terms;

// Ops the device executor runs (by code, on the program's own slots).
inline bool grid_supported(const Op& op, const Program& p) {
  const int c = static_cast<int>(op.code);
  auto varies = [&](std::size_t k) { return !p.slot(op.in[k]).constant; };
  if (c < 100) return varies(0);                        // unary
  if (c < 200) return true;                             // binary
  if (c >= 300 && c <= 302) return varies(0);           // lower, upper, interval
  if (terms::univariate_arity(op.code) > 0 && c >= 400) return static_cast<int>(op.in.size()) == terms::univariate_arity(op.code);
  switch (op.code) {
    case OpCode::Gather: return op.in.size() == 1;
    case OpCode::ScatterAdd:
    case OpCode::Sum:
    case OpCode::TargetAdd:
    case OpCode::CumSum:
    case OpCode::IcarPairwiseLpdf: return op.in.size() == 1 && varies(0);
    case OpCode::DenseMatMul: return varies(1);
    case OpCode::GlmLpdf: {
      if (op.ip[0] < 0 || op.ip[0] > 3) return false;
      for (std::size_t q = 1; q <= 3; ++q)
        if (op.ip[q] >= 0 && !p.slot(op.in[static_cast<std::size_t>(op.ip[q])]).constant && q != 2) return false;
      if (op.ip[0] == 1 && !p.slot(op.in[static_cast<std::size_t>(op.ip[2])]).constant) return false;
      for (std::size_t q = ir::kGlmHeader; q < op.ip.size(); q += 4)
        if (op.ip[q + 3] >= 0 && !p.slot(op.in[static_cast<std::size_t>(op.ip[q + 3])]).constant) return false;
      return true;
    }
    default: return false;
  }
}

// rows grouped by key (key[r] in [0, K)), each group's rows in row order: start (K + 1), rows (n)
inline void group_rows(const int32_t* key, std::size_t n, std::size_t K, std::vector<int32_t>& start,
                       std::vector<int32_t>& rows) {
  start.assign(K + 1, 0);
  for (std::size_t r = 0; r < n; ++r) ++start[static_cast<std::size_t>(key[r]) + 1];
  for (std::size_t j = 0; j < K; ++j) start[j + 1] += start[j];
  std::vector<int32_t> fill(start.begin(), start.end() - 1);
  rows.assign(n, 0);
  for (std::size_t r = 0; r < n; ++r) rows[static_cast<std::size_t>(fill[static_cast<std::size_t>(key[r])]++)] = static_cast<int32_t>(r);
}

template <class Dev>
class GridExecutor {
 public:
  GridExecutor(std::shared_ptr<const Program> p, std::size_t lanes) : p_(std::move(p)), B_(lanes) {
    if (B_ < 1) throw std::invalid_argument("device executor: lanes must be >= 1");
    const Program& P = *p_;
    std::size_t val = 0, adj = 0, most = 1;
    for (std::size_t s = 0; s < P.num_slots(); ++s) {
      const ir::Slot& sl = P.slot(static_cast<int>(s));
      if (!sl.constant) val = std::max(val, sl.offset + sl.size);
      if (sl.adj >= 0) adj = std::max(adj, static_cast<std::size_t>(sl.adj) + sl.size);
      most = std::max(most, sl.size);
    }
    for (const Op& op : P.ops()) {
      if (!grid_supported(op, P))
        throw std::invalid_argument("device executor: op code " + std::to_string(static_cast<int>(op.code)) +
                                    " has no device kernel (or its inputs are of a kind it does not take)");
      for (int i : op.idx) most = std::max(most, P.index(i).size());
    }
    val_ = Dev::template alloc<double>(std::max<std::size_t>(val, 1) * B_);
    adj_ = Dev::template alloc<double>(std::max<std::size_t>(adj, 1) * B_);
    adj_size_ = std::max<std::size_t>(adj, 1) * B_;
    cst_ = Dev::upload(P.constants().empty() ? std::vector<double>{0.0} : P.constants());
    for (std::size_t i = 0; i < P.num_indices(); ++i) {
      const auto& ix = P.index(static_cast<int>(i));
      idx_.push_back(Dev::upload(ix.empty() ? std::vector<int32_t>{0} : ix));
    }
    target_ = Dev::template alloc<double>(B_);
    const std::size_t S = most * B_;
    for (auto* b : {&t_, &g_, &d0_, &d1_, &d2_, &d3_}) *b = Dev::template alloc<double>(S);
    part_ = Dev::template alloc<double>((most / grid::kChunk + 1) * B_);
    lane_ = Dev::template alloc<double>(4 * B_);
    plan();
    host_x_.assign(P.dim() * B_, 0.0);
  }

  std::size_t lanes() const { return B_; }
  std::size_t dim() const { return p_->dim(); }

  // X, G: B x dim on the host (G null: logp only); lp: B
  void logp_grad(const double* X, double* G, double* lp) {
    const Program& P = *p_;
    const std::size_t d = P.dim();
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t b = 0; b < B_; ++b) host_x_[i * B_ + b] = X[b * d + i];
    Dev::to_device(Dev::ptr(val_), host_x_.data(), d * B_);
    Dev::zero(Dev::ptr(target_), B_);
    want_grad_ = G != nullptr;
    if (want_grad_) Dev::zero(Dev::ptr(adj_), adj_size_);
    const auto& ops = P.ops();
    for (std::size_t k = 0; k < ops.size(); ++k) forward(k);
    if (want_grad_) {
      for (std::size_t k = ops.size(); k-- > 0;) {
        const Op& op = ops[k];
        if (static_cast<int>(op.code) >= 400) continue;  // densities add their partials going forward
        if (op.out >= 0 && !a(op.out)) continue;
        backward(k);
      }
      Dev::to_host(host_x_.data(), Dev::ptr(adj_), d * B_);
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t b = 0; b < B_; ++b) G[b * d + i] = host_x_[i * B_ + b];
    }
    Dev::to_host(lp, Dev::ptr(target_), B_);
  }

 private:
  using Buf = typename Dev::template Buf<double>;
  using IBuf = typename Dev::template Buf<int32_t>;
  using TBuf = typename Dev::template Buf<grid::GlmTerm>;

  struct Plan {          // what an op needs beyond its slots, built once
    IBuf start, rows;    // gather adjoint / scatter-add / ICAR node lists
    std::vector<IBuf> term_start, term_rows;  // GLM: per gather term
    TBuf terms;          // GLM terms (device copies of their pointers)
  };

  const Program& P() const { return *p_; }
  double* v(int s) const {
    const ir::Slot& sl = P().slot(s);
    return sl.constant ? const_cast<double*>(Dev::ptr(cst_)) + sl.offset : const_cast<double*>(Dev::ptr(val_)) + sl.offset * B_;
  }
  double* a(int s) const {
    const ir::Slot& sl = P().slot(s);
    return (want_grad_ && sl.adj >= 0) ? const_cast<double*>(Dev::ptr(adj_)) + static_cast<std::size_t>(sl.adj) * B_ : nullptr;
  }
  std::size_t n(int s) const { return P().slot(s).size; }
  bool varies(int s) const { return !P().slot(s).constant; }
  grid::Arg arg(int s, std::size_t n_out) const {
    const bool full = n(s) == n_out;
    if (varies(s)) return {v(s), full ? B_ : 0, 1};
    return {v(s), full ? std::size_t{1} : std::size_t{0}, 0};
  }
  const int32_t* ix(int id) const { return Dev::ptr(idx_[static_cast<std::size_t>(id)]); }
  std::size_t ix_len(int id) const { return P().index(id).size(); }
  double* buf(Buf& b) const { return const_cast<double*>(Dev::ptr(b)); }

  // out[b] (+)= offset + scale * sum_i t[i, b] over n rows
  void reduce(const double* t, std::size_t rows, double* out, bool add, double scale = 1.0, double offset = 0.0) {
    const std::size_t chunks = rows == 0 ? 0 : (rows - 1) / grid::kChunk + 1;
    if (chunks) Dev::launch(chunks * B_, grid::ChunkSums{t, buf(part_), rows, B_});
    Dev::launch(B_, grid::ChunkTotal{buf(part_), out, chunks, B_, scale, offset, add});
  }

  void plan() {
    const Program& Pr = P();
    plans_.resize(Pr.ops().size());
    for (std::size_t k = 0; k < Pr.ops().size(); ++k) {
      const Op& op = Pr.ops()[k];
      Plan& pl = plans_[k];
      std::vector<int32_t> start, rows;
      if (op.code == OpCode::Gather || op.code == OpCode::ScatterAdd) {
        const auto& key = Pr.index(op.idx[0]);
        const std::size_t groups = op.code == OpCode::Gather ? n(op.in[0]) : n(op.out);
        group_rows(key.data(), key.size(), groups, start, rows);
      } else if (op.code == OpCode::IcarPairwiseLpdf) {
        const auto& i1 = Pr.index(op.idx[0]);
        const auto& i2 = Pr.index(op.idx[1]);
        const std::size_t N = n(op.in[0]);
        std::vector<std::vector<int32_t>> per(N);
        for (std::size_t e = 0; e < i1.size(); ++e) {
          per[static_cast<std::size_t>(i1[e])].push_back(static_cast<int32_t>(e + 1));
          per[static_cast<std::size_t>(i2[e])].push_back(-static_cast<int32_t>(e + 1));
        }
        start.assign(1, 0);
        for (const auto& l : per) {
          rows.insert(rows.end(), l.begin(), l.end());
          start.push_back(static_cast<int32_t>(rows.size()));
        }
      } else if (op.code == OpCode::GlmLpdf) {
        std::vector<grid::GlmTerm> ts;
        const std::size_t nrows = n(op.in[static_cast<std::size_t>(op.ip[1])]);
        for (std::size_t q = ir::kGlmHeader; q < op.ip.size(); q += 4) {
          const int64_t kind = op.ip[q], vi = op.ip[q + 1], xi = op.ip[q + 2], di = op.ip[q + 3];
          const int vs = op.in[static_cast<std::size_t>(vi)];
          grid::GlmTerm t;
          t.kind = kind;
          t.v = arg(vs, kind == 2 ? nrows : n(vs));
          if (kind == 1) t.v.es = 0;
          t.ix = xi >= 0 ? ix(op.idx[static_cast<std::size_t>(xi)]) : nullptr;
          t.d = di >= 0 ? v(op.in[static_cast<std::size_t>(di)]) : nullptr;
          ts.push_back(t);
          std::vector<int32_t> s2, r2;
          if (kind == 0) {
            const auto& key = Pr.index(op.idx[static_cast<std::size_t>(xi)]);
            group_rows(key.data(), key.size(), n(vs), s2, r2);
          }
          pl.term_start.push_back(Dev::upload(s2.empty() ? std::vector<int32_t>{0} : s2));
          pl.term_rows.push_back(Dev::upload(r2.empty() ? std::vector<int32_t>{0} : r2));
        }
        pl.terms = Dev::upload(ts);
      }
      if (!start.empty()) {
        pl.start = Dev::upload(start);
        pl.rows = Dev::upload(rows.empty() ? std::vector<int32_t>{0} : rows);
      }
    }
  }

  void forward(std::size_t k) {
    const Op& op = P().ops()[k];
    Plan& pl = plans_[k];
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
    if (c >= 300 && c <= 302) {
      const std::size_t N = n(op.in[0]);
      Dev::launch(N * B_, grid::Bound{op.code, v(op.in[0]), v(op.out), buf(t_), op.dp[0], op.dp.size() > 1 ? op.dp[1] : 0.0});
      reduce(buf(t_), N, target, true);
      return;
    }
    if (c >= 400 && terms::univariate_arity(op.code) > 0) return univariate(op);
    switch (op.code) {
      case OpCode::Gather:
        Dev::launch(n(op.out) * B_, grid::Gather{arg(op.in[0], n(op.in[0])), ix(op.idx[0]), v(op.out), B_});
        return;
      case OpCode::ScatterAdd:
        Dev::launch(n(op.out) * B_, grid::SegmentSum{Dev::ptr(pl.start), Dev::ptr(pl.rows), v(op.in[0]), nullptr, v(op.out), false, B_});
        return;
      case OpCode::Sum: reduce(v(op.in[0]), n(op.in[0]), v(op.out), false); return;
      case OpCode::TargetAdd: reduce(v(op.in[0]), n(op.in[0]), target, true); return;
      case OpCode::CumSum: {
        const std::size_t outer = static_cast<std::size_t>(op.ip[0]), len = static_cast<std::size_t>(op.ip[1]),
                          inner = static_cast<std::size_t>(op.ip[2]);
        Dev::launch(outer * inner * B_, grid::CumSumLines{v(op.in[0]), v(op.out), len, inner, B_, false});
        return;
      }
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
          Dev::launch(n(op.in[0]) * B_, grid::IcarGrad{v(op.in[0]), ix(op.idx[0]), ix(op.idx[1]), Dev::ptr(pl.start),
                                                        Dev::ptr(pl.rows), pa, B_});
        return;
      }
      case OpCode::GlmLpdf: return glm(op, pl);
      default: throw std::logic_error("device executor: no forward kernel");
    }
  }

  void univariate(const Op& op) {
    const int N = terms::univariate_arity(op.code);
    std::size_t no = 1;
    for (int q = 0; q < N; ++q) no = std::max(no, n(op.in[static_cast<std::size_t>(q)]));
    grid::Univariate u{};
    u.code = op.code;
    u.N = N;
    u.lp_t = buf(t_);
    u.B = B_;
    double* dts[4] = {buf(d0_), buf(d1_), buf(d2_), buf(d3_)};
    for (int q = 0; q < N; ++q) {
      const int s = op.in[static_cast<std::size_t>(q)];
      u.in[q] = arg(s, no);
      u.adj[q] = a(s);
      u.full[q] = n(s) == no;
      u.d_t[q] = dts[q];
    }
    Dev::launch(no * B_, u);
    reduce(buf(t_), no, buf(target_), true, 1.0, op.dp.empty() ? 0.0 : op.dp[0]);
    for (int q = 0; q < N; ++q)
      if (u.adj[q] && !u.full[q]) reduce(dts[q], no, u.adj[q], true);
  }

  void glm(const Op& op, Plan& pl) {
    const int64_t fam = op.ip[0];
    const int y_slot = op.in[static_cast<std::size_t>(op.ip[1])];
    const std::size_t rows = n(y_slot);
    const int aux = op.ip[2] >= 0 ? op.in[static_cast<std::size_t>(op.ip[2])] : -1;
    const double* wt = op.ip[3] >= 0 ? v(op.in[static_cast<std::size_t>(op.ip[3])]) : nullptr;
    double* iv = buf(lane_);
    if (fam == 3) Dev::launch(B_, grid::InvVar{arg(aux, 1), iv});
    const int nt = static_cast<int>(pl.term_start.size());
    Dev::launch(rows * B_, grid::GlmRows{fam, Dev::ptr(pl.terms), nt, v(y_slot), fam == 1 ? v(aux) : nullptr, wt, iv,
                                         buf(t_), buf(g_), B_});
    const double dp0 = op.dp.empty() ? 0.0 : op.dp[0];
    if (fam == 3) {
      double* ss = buf(lane_) + B_;
      reduce(buf(t_), rows, ss, false);
      const double extra = op.dp.size() > 2 ? op.dp[1] : 0.0;
      const double nn = op.dp.size() > 2 ? op.dp[2] : static_cast<double>(rows);
      Dev::launch(B_, grid::GlmNormalTotal{arg(aux, 1), ss, iv, buf(target_), a(aux), dp0, extra, nn});
    } else {
      reduce(buf(t_), rows, buf(target_), true, 1.0, dp0);
    }
    if (!want_grad_) return;
    std::size_t q = 0;
    for (std::size_t at = ir::kGlmHeader; at < op.ip.size(); at += 4, ++q) {
      const int64_t kind = op.ip[at];
      const int vs = op.in[static_cast<std::size_t>(op.ip[at + 1])];
      double* va = a(vs);
      if (!va) continue;
      const int64_t di = op.ip[at + 3];
      const double* d = di >= 0 ? v(op.in[static_cast<std::size_t>(di)]) : nullptr;
      if (kind == 0) {
        Dev::launch(n(vs) * B_, grid::SegmentSum{Dev::ptr(pl.term_start[q]), Dev::ptr(pl.term_rows[q]), buf(g_), d, va, true, B_});
      } else if (kind == 1) {
        Dev::launch(rows * B_, grid::Scaled{buf(g_), d, buf(d0_), false, B_});
        reduce(buf(d0_), rows, va, true);
      } else {
        Dev::launch(rows * B_, grid::Scaled{buf(g_), d, va, true, B_});
      }
    }
  }

  void backward(std::size_t k) {
    const Op& op = P().ops()[k];
    Plan& pl = plans_[k];
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
    if (c >= 300 && c <= 302) {
      if (double* ya = a(op.in[0]))
        Dev::launch(n(op.in[0]) * B_, grid::BoundBack{op.code, v(op.in[0]), v(op.out), a(op.out), ya, op.dp[0],
                                                      op.dp.size() > 1 ? op.dp[1] : 0.0});
      return;
    }
    double* aa = a(op.in.back());
    if (!aa) return;
    switch (op.code) {
      case OpCode::Gather:
        Dev::launch(n(op.in[0]) * B_, grid::SegmentSum{Dev::ptr(pl.start), Dev::ptr(pl.rows), a(op.out), nullptr, aa, true, B_});
        return;
      case OpCode::ScatterAdd:
        Dev::launch(n(op.in[0]) * B_, grid::GatherAdd{a(op.out), ix(op.idx[0]), aa, B_});
        return;
      case OpCode::Sum: Dev::launch(n(op.in[0]) * B_, grid::Broadcast{a(op.out), 0.0, aa, B_}); return;
      case OpCode::TargetAdd: Dev::launch(n(op.in[0]) * B_, grid::Broadcast{nullptr, 1.0, aa, B_}); return;
      case OpCode::CumSum: {
        const std::size_t outer = static_cast<std::size_t>(op.ip[0]), len = static_cast<std::size_t>(op.ip[1]),
                          inner = static_cast<std::size_t>(op.ip[2]);
        Dev::launch(outer * inner * B_, grid::CumSumLines{a(op.out), aa, len, inner, B_, true});
        return;
      }
      case OpCode::DenseMatMul: {
        const std::size_t nn = static_cast<std::size_t>(op.ip[0]), kk = static_cast<std::size_t>(op.ip[1]),
                          m = static_cast<std::size_t>(op.ip[2]);
        Dev::launch(kk * m * B_, grid::MatMulBack{v(op.in[0]), a(op.out), aa, nn, kk, m, B_});
        return;
      }
      default: throw std::logic_error("device executor: no backward kernel");
    }
  }

  std::shared_ptr<const Program> p_;
  std::size_t B_, adj_size_ = 0;
  bool want_grad_ = false;
  Buf val_, adj_, cst_, target_, t_, g_, d0_, d1_, d2_, d3_, part_, lane_;
  std::vector<IBuf> idx_;
  std::vector<Plan> plans_;
  std::vector<double> host_x_;
};

}  // namespace brr::backend
