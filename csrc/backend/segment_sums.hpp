// Segmented sums on a grid without atomics and without long serial loops: out[j] = sum over the
// entries of segment j (entries [start[j], start[j + 1]) of a list built once) of term(q), for every
// lane. Where a segment has at most kPiece entries one thread per (segment, lane) sums them, as
// before; a longer one (a group of millions of survey rows: one state, one age band) is cut into
// pieces of kPiece entries, one thread per (piece, lane), and the pieces' partial sums are summed the
// same way, level after level, until every segment has at most kPiece of them. The cuts depend on the
// segment lengths alone, so the sums run in one fixed order: the same bits every call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/hd.hpp"

namespace brr::backend {

namespace grid {

constexpr int32_t kPiece = 256;  // entries (or partial sums) one thread adds up

// lane b's value of entry q: a list of rows of src, each times w[row] when w is given
struct RowsTerm {
  const int32_t* rows;
  const double *src, *w;
  std::size_t B;
  BRR_HD double operator()(int32_t q, std::size_t b) const {
    const std::size_t r = static_cast<std::size_t>(rows[q]);
    return w ? w[r] * src[r * B + b] : src[r * B + b];
  }
};

// a CSR matrix's stored entries listed by column: vals[e] times the adjoint of e's row (A^T oa)
struct CsrColumnTerm {
  const int32_t *entries, *entry_row;
  const double *vals, *oa;
  std::size_t B;
  BRR_HD double operator()(int32_t q, std::size_t b) const {
    const int32_t e = entries[q];
    return vals[e] * oa[static_cast<std::size_t>(entry_row[e]) * B + b];
  }
};

// an ICAR node's edge list (edge e listed as e + 1 where the node is e's first end, -(e + 1) its
// second): the pairwise density's adjoint, -(phi[i1] - phi[i2]) for a first end, + for a second
struct IcarEdgeTerm {
  const double* phi;
  const int32_t *i1, *i2, *edges;
  std::size_t B;
  BRR_HD double operator()(int32_t q, std::size_t b) const {
    const int32_t code = edges[q];
    const std::size_t e = static_cast<std::size_t>(code > 0 ? code - 1 : -code - 1);
    const double d = phi[static_cast<std::size_t>(i1[e]) * B + b] - phi[static_cast<std::size_t>(i2[e]) * B + b];
    return code > 0 ? -d : d;
  }
};

// the partial sums of the level below
struct PartialTerm {
  const double* part;
  std::size_t B;
  BRR_HD double operator()(int32_t q, std::size_t b) const { return part[static_cast<std::size_t>(q) * B + b]; }
};

// part[p, b] = sum of term over piece p's entries [bounds[p], bounds[p + 1])
template <class Term>
struct PieceSums {
  const int32_t* bounds;
  Term term;
  double* part;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t p = k / B, b = k % B;
    double s = 0.0;
    for (int32_t q = bounds[p]; q < bounds[p + 1]; ++q) s += term(q, b);
    part[k] = s;
  }
};

// out[j, b] (= or +=) sum of term over segment j's entries [start[j], start[j + 1])
template <class Term>
struct SegmentTotals {
  const int32_t* start;
  Term term;
  double* out;
  bool add;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t j = k / B, b = k % B;
    double s = 0.0;
    for (int32_t q = start[j]; q < start[j + 1]; ++q) s += term(q, b);
    out[k] = add ? out[k] + s : s;
  }
};

}  // namespace grid

// The cuts of one list's segments, on the host: per level, the pieces' bounds over the entries (level
// 0) or over the level below's partial sums; then each segment's range at the last level.
struct SegmentCuts {
  std::vector<std::vector<int32_t>> bounds;  // per level: pieces + 1 bounds
  std::vector<int32_t> last_start;           // segments + 1: each segment's items at the last level
  std::size_t partials() const {             // partial sums of all levels, per lane
    std::size_t n = 0;
    for (const auto& b : bounds) n += b.size() - 1;
    return n;
  }
};

// start: segments + 1 offsets into the entry list
inline SegmentCuts cut_segments(const std::vector<int32_t>& start) {
  SegmentCuts c;
  std::vector<int32_t> cur = start;
  auto longest = [](const std::vector<int32_t>& s) {
    int32_t m = 0;
    for (std::size_t j = 0; j + 1 < s.size(); ++j) m = s[j + 1] - s[j] > m ? s[j + 1] - s[j] : m;
    return m;
  };
  while (cur.size() > 1 && longest(cur) > grid::kPiece) {
    std::vector<int32_t> bounds, next{0};
    for (std::size_t j = 0; j + 1 < cur.size(); ++j) {
      for (int32_t q = cur[j]; q < cur[j + 1]; q += grid::kPiece) bounds.push_back(q);
      next.push_back(static_cast<int32_t>(bounds.size()));
    }
    bounds.push_back(cur.back());
    c.bounds.push_back(std::move(bounds));
    cur = std::move(next);
  }
  c.last_start = std::move(cur);
  return c;
}

}  // namespace brr::backend
