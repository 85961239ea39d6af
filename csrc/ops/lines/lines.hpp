// The line layout of the ops along an axis (this directory): a slot seen as
// (outer, len, inner) with the axis in the middle (integer parameters 0-2). With B lanes interleaved an
// element (p, l, j) of lane b sits at ((p * len + l) * inner + j) * B + b, so lanes and inner positions
// together are `width` = inner * B side-by-side columns, and line k (of outer * width) starts at
// (k / width) * len * width + k % width and steps by width.
#pragma once
#include <cstddef>

#include "common/hd.hpp"
#include "common/view.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

struct Lines {
  std::size_t len, width;
  BRR_HD std::size_t start(std::size_t k) const { return (k / width) * len * width + k % width; }
  BRR_HD In in(const double* p, std::size_t k) const { return In{p + start(k), width}; }
  BRR_HD Out out(double* p, std::size_t k) const { return Out{p + start(k), width}; }
};

struct Axis {
  std::size_t outer, len, inner;
  explicit Axis(const Op& op)
      : outer(static_cast<std::size_t>(op.ip[0])), len(static_cast<std::size_t>(op.ip[1])),
        inner(static_cast<std::size_t>(op.ip[2])) {}
  std::size_t lines(std::size_t B) const { return outer * inner * B; }
  Lines layout(std::size_t B) const { return {len, inner * B}; }
};

// the shape rule they share: input (outer, len, inner); output the same, or (outer, inner) when the
// axis is reduced
inline void check_lines(const ShapeCheck& c, bool reduces) {
  c.pos_ip(3);
  const Axis ax(c.op);
  c.eq(c.in(0), ax.outer * ax.len * ax.inner, "input");
  c.eq(c.out(), reduces ? ax.outer * ax.inner : ax.outer * ax.len * ax.inner, "output");
}

}  // namespace brr::ops
