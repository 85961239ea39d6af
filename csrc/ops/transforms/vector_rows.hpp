// What the vector transforms (ordered, sum-to-zero, simplex: this directory) share: b rows of K outputs,
// each from a row of the input (K values for ordered, K - 1 for the others), integer parameters (b, K).
// With B lanes interleaved, element j of row r of lane b sits at (r * K + j) * B + b.
#pragma once
#include <cstddef>

#include "common/view.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

struct VectorRows {
  std::size_t rows, K;
  explicit VectorRows(const Op& op) : rows(static_cast<std::size_t>(op.ip[0])), K(static_cast<std::size_t>(op.ip[1])) {}
};

// row r of lane b in a slot of rows of width w (K or K - 1)
BRR_HD inline std::size_t row_at(std::size_t r, std::size_t b, std::size_t w, std::size_t B) { return r * w * B + b; }

// input rows of K - in_short values, output rows of K; `work`: the per-lane doubles of each of the two
// work buffers the spec uses (ShapeCheck::work)
inline void check_vector_rows(const ShapeCheck& c, std::size_t in_short, std::size_t work) {
  c.pos_ip(2);
  const VectorRows v(c.op);
  if (v.K < 1) fail("op ", c.code(), ": vector length must be >= 1");
  c.eq(c.out(), v.rows * v.K, "output");
  c.eq(c.in(0), v.rows * (v.K - in_short), "input");
  c.work(work);
}

}  // namespace brr::ops
