// What the device executor keeps on the device for a Program whatever the points: its constants
// (data columns, observed values), index arrays, and the row lists each op's adjoints sum over (rows
// grouped by group id once, so no float atomics). Read-only once built, so several executors share one
// (NUTS's chains, each with its own single-point executor, hold one copy of a model's data on the
// device, not one each); an executor owns only its lanes' values, adjoints and scratch.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/program.hpp"
#include "backend/grid_kernels.hpp"
#include "backend/segment_sums.hpp"
#include "ops/all.hpp"
#include "ir/glm_codes.hpp"

namespace brr::backend {

using ir::Op;
using ir::OpCode;
using ir::Program;
namespace terms = ad::terms;

inline bool grid_supported(const Op& op, const Program& p);

// every op of a Function's body runs on the device
inline bool grid_supported_body(const Program& body) {
  for (const Op& op : body.ops())
    if (!grid_supported(op, body)) return false;
  return true;
}

// Ops the device executor runs (by code, on the program's own slots).
inline bool grid_supported(const Op& op, const Program& p) {
  const int c = static_cast<int>(op.code);
  auto varies = [&](std::size_t k) { return !p.slot(op.in[k]).constant; };
  bool runs = false;
  if (ops::with_spec(op.code, [&](auto spec) { runs = decltype(spec)::on_lanes(op, p); })) return runs;
  if (c < 100) return varies(0);                        // unary
  if (c < 200) return true;                             // binary
  if (op.code == OpCode::PointwiseLpdf) return terms::univariate_arity(static_cast<OpCode>(op.ip[0])) > 0;
  if (terms::univariate_arity(op.code) > 0 && c >= 400) return static_cast<int>(op.in.size()) == terms::univariate_arity(op.code);
  switch (op.code) {
    case OpCode::Gather: return op.in.size() == 1;
    case OpCode::ScatterAdd:
    case OpCode::IcarPairwiseLpdf: return op.in.size() == 1 && varies(0);
    case OpCode::LinearPredictor: return true;  // constant inputs are read in place; data columns are constant
    case OpCode::CsrMatVec: return varies(1);
    case OpCode::Scan: return grid_supported_body(p.function(static_cast<int>(op.ip[0])).body());
    case OpCode::HmmLogLik: return true;  // any input may be constant: read in place through its Arg
    case OpCode::DenseMatMul: return varies(1);
    case OpCode::GlmLpdf: {
      if (!known_glm_family(op.ip[0])) return false;
      for (std::size_t q = 1; q <= 3; ++q)
        if (op.ip[q] >= 0 && !p.slot(op.in[static_cast<std::size_t>(op.ip[q])]).constant && q != 2) return false;
      if (op.ip[0] == kGlmBinomial && !p.slot(op.in[static_cast<std::size_t>(op.ip[2])]).constant) return false;
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
struct GridData {
  using IBuf = typename Dev::template Buf<int32_t>;
  using Buf = typename Dev::template Buf<double>;

  struct Cuts {  // a list's segments cut for its segmented sums (segment_sums.hpp), on the device
    std::vector<IBuf> bounds;          // per level
    std::vector<std::size_t> pieces;   // per level
    IBuf last_start;
    std::size_t partials = 0;          // per lane, all levels
  };

  struct OpLists {   // what an op needs beyond its slots and the program's index arrays
    IBuf rows;   // gather adjoint / scatter-add / ICAR node / CSR column lists / a spec's row groups, by segment
    Cuts cuts;   // their segments (the start offsets, cut where a segment is long)
    std::vector<IBuf> term_rows;  // GLM and linear predictor: per gather term, and its cuts
    std::vector<Cuts> term_cuts;
    IBuf owner;        // CSR product: the row of each stored entry
    std::size_t groups = 0;  // an op spec's row groups (ops/spec.hpp: row_groups)
  };

  std::shared_ptr<const Program> program;
  Buf cst;
  std::vector<IBuf> idx;
  std::vector<OpLists> lists;                        // by op
  std::vector<std::shared_ptr<const GridData>> fns;  // by function id: Scan steps' bodies
  std::size_t bytes = 0;                             // device memory held, the bodies' included
  std::size_t most_partials = 0;                     // the largest Cuts::partials: an executor's scratch per lane

  // throws std::invalid_argument naming the first op without a device kernel
  explicit GridData(std::shared_ptr<const Program> p) : program(std::move(p)) {
    const Program& P = *program;
    for (const Op& op : P.ops())
      if (!grid_supported(op, P))
        throw std::invalid_argument("device executor: op code " + std::to_string(static_cast<int>(op.code)) +
                                    " has no device kernel (or its inputs are of a kind it does not take)");
    cst = up(P.constants().empty() ? std::vector<double>{0.0} : P.constants());
    for (std::size_t i = 0; i < P.num_indices(); ++i) {
      const auto& ix = P.index(static_cast<int>(i));
      idx.push_back(up(ix.empty() ? std::vector<int32_t>{0} : ix));
    }
    lists.resize(P.ops().size());
    for (std::size_t k = 0; k < P.ops().size(); ++k) build(P.ops()[k], lists[k]);
    fns.resize(P.num_functions());
    for (const Op& op : P.ops()) {
      if (op.code != OpCode::Scan) continue;
      const auto id = static_cast<std::size_t>(op.ip[0]);
      if (fns[id]) continue;  // the body is owned by the program: an aliasing pointer keeps it alive
      fns[id] = std::make_shared<const GridData>(
          std::shared_ptr<const Program>(program, &P.function(static_cast<int>(id)).body()));
      bytes += fns[id]->bytes;
    }
  }

 private:
  template <class T>
  typename Dev::template Buf<T> up(const std::vector<T>& v) {
    bytes += v.size() * sizeof(T);
    return Dev::upload(v);
  }
  std::size_t n(int s) const { return program->slot(s).size; }

  void build(const Op& op, OpLists& pl) {
    const Program& Pr = *program;
    std::vector<int32_t> start, rows;
    ops::with_spec(op.code, [&](auto spec) {
      using S = decltype(spec);
      if constexpr (ops::has_row_groups<S>::value) {
        std::vector<int32_t> key;
        pl.groups = S::row_groups(op, Pr, key);
        if (pl.groups) group_rows(key.data(), key.size(), pl.groups, start, rows);
      }
    });
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
      term_lists(op, pl, ir::kGlmHeader);
    } else if (op.code == OpCode::LinearPredictor) {
      term_lists(op, pl, 0);
    } else if (op.code == OpCode::CsrMatVec) {  // entries by column, for A^T's segmented sums
      const auto& indptr = Pr.index(op.idx[0]);
      const auto& cols = Pr.index(op.idx[1]);
      std::vector<int32_t> owner(cols.size());
      for (std::size_t r = 0; r + 1 < indptr.size(); ++r)
        for (int32_t e = indptr[r]; e < indptr[r + 1]; ++e) owner[static_cast<std::size_t>(e)] = static_cast<int32_t>(r);
      group_rows(cols.data(), cols.size(), static_cast<std::size_t>(op.ip[1]), start, rows);
      pl.owner = up(owner.empty() ? std::vector<int32_t>{0} : owner);
    }
    if (!start.empty()) {
      pl.rows = up(rows.empty() ? std::vector<int32_t>{0} : rows);
      pl.cuts = cuts(start);
    }
  }

  Cuts cuts(const std::vector<int32_t>& start) {
    const SegmentCuts h = cut_segments(start);
    Cuts c;
    for (const auto& b : h.bounds) {
      c.bounds.push_back(up(b));
      c.pieces.push_back(b.size() - 1);
    }
    c.last_start = up(h.last_start);
    c.partials = h.partials();
    most_partials = std::max(most_partials, c.partials);
    return c;
  }

  // each gather term's rows (ip from `first`, 4 ints per term: kind, value input, index position, data
  // input) grouped for its adjoint's segmented sum
  void term_lists(const Op& op, OpLists& pl, std::size_t first) {
    for (std::size_t q = first; q < op.ip.size(); q += 4) {
      const int64_t kind = op.ip[q], xi = op.ip[q + 2];
      std::vector<int32_t> s2, r2;
      if (kind == kTermGather) {
        const auto& key = program->index(op.idx[static_cast<std::size_t>(xi)]);
        group_rows(key.data(), key.size(), n(op.in[static_cast<std::size_t>(op.ip[q + 1])]), s2, r2);
      }
      pl.term_cuts.push_back(cuts(s2.empty() ? std::vector<int32_t>{0} : s2));
      pl.term_rows.push_back(up(r2.empty() ? std::vector<int32_t>{0} : r2));
    }
  }
};

}  // namespace brr::backend
