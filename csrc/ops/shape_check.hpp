// What a shape rule sees of an op: its inputs' and output's sizes and the checks that name the op in
// their messages: the shape rules of ops/shapes.cpp and of the op specs use it.
#pragma once
#include <algorithm>
#include <string>
#include <utility>

#include "common/errors.hpp"
#include "ir/op_shapes.hpp"
#include "ir/glm_codes.hpp"

namespace brr::ops {

using ir::Op;
using ir::ShapeView;

struct ShapeCheck {
  const Op& op;
  const ShapeView& sv;
  // the doubles per lane of each of the two work buffers a spec asks its executor for (X::work)
  mutable std::size_t work_per_lane = 0;
  void work(std::size_t n) const { work_per_lane = std::max(work_per_lane, n); }
  std::string code() const { return op_label(op.code); }
  void arity(std::size_t nin, std::size_t nidx, std::size_t nip, bool has_out) const {
    if (op.in.size() != nin) fail("op ", code(), ": expected ", nin, " inputs, got ", op.in.size());
    if (op.idx.size() != nidx) fail("op ", code(), ": expected ", nidx, " index arrays, got ", op.idx.size());
    if (op.ip.size() < nip) fail("op ", code(), ": expected ", nip, " integer parameters, got ", op.ip.size());
    if (has_out != (op.out >= 0)) fail("op ", code(), has_out ? ": needs an output slot" : ": takes no output slot");
  }
  std::size_t in(int k) const { return sv.slot_size(op.in[k]); }
  std::size_t out() const { return sv.slot_size(op.out); }
  void eq(std::size_t a, std::size_t b, const char* what) const {
    if (a != b) fail("op ", code(), ": ", what, " has size ", a, ", expected ", b);
  }
  void function(int64_t id, std::size_t in, std::size_t out) const {
    const auto dims = sv.function_dims(static_cast<int>(id));
    if (dims.first < 0) fail("op ", code(), ": function ", id, " does not exist; add it with add_function first");
    if (static_cast<std::size_t>(dims.first) != in || static_cast<std::size_t>(dims.second) != out)
      fail("op ", code(), ": function ", id, " maps ", dims.first, " inputs to ", dims.second, " outputs, expected ",
           in, " to ", out);
  }
  void pos_ip(std::size_t k) const {
    for (std::size_t i = 0; i < k; ++i)
      if (op.ip[i] < 0) fail("op ", code(), ": integer parameter ", i, " is negative");
  }
  // The linear-predictor terms from op.ip[first] on (4 ints each: kind, value input, index position or,
  // for a scaled dense term, its scalar's input position, data input) over n rows, as LinearPredictor and
  // GlmLpdf read them; `who` starts the messages. Returns the gather terms' values (largest, total), which
  // size their split scatter accumulators.
  std::pair<std::size_t, std::size_t> linear_terms(std::size_t first, std::size_t n, const char* who) const {
    const auto nin = static_cast<int64_t>(op.in.size());
    std::size_t largest = 0, total = 0;
    for (std::size_t t = first; t < op.ip.size(); t += 4) {
      const int64_t kind = op.ip[t], vi = op.ip[t + 1], xi = op.ip[t + 2], di = op.ip[t + 3];
      if (vi < 0 || vi >= nin) fail(who, ": bad value input");
      if (di >= nin) fail(who, ": bad data input");
      if (di >= 0 && (sv.slot_size(op.in[di]) != n || !sv.is_const(op.in[di])))
        fail(who, ": data column must be constant with ", n, " rows");
      const std::size_t vs = sv.slot_size(op.in[vi]);
      if (kind == kTermGather) {  // gather
        largest = std::max(largest, vs);
        total += vs;
        if (xi < 0 || xi >= static_cast<int64_t>(op.idx.size())) fail(who, ": bad index position");
        eq(sv.index_len(op.idx[xi]), n, "term index");
        if (sv.index_bound(op.idx[xi]) > static_cast<int64_t>(vs)) fail(who, ": index exceeds values");
      } else if (kind == kTermScalar) {  // scalar
        eq(vs, 1, "scalar term");
      } else if (kind == kTermDense) {  // dense
        eq(vs, n, "dense term");
      } else if (kind == kTermScaled) {  // scaled dense, s * v[i]
        eq(vs, n, "scaled dense term");
        if (xi < 0 || xi >= nin) fail(who, ": bad scalar input of a scaled dense term");
        eq(sv.slot_size(op.in[xi]), 1, "scaled dense term's scalar");
      } else {
        fail(who, ": unknown term kind ", kind);
      }
    }
    return {largest, total};
  }
};

}  // namespace brr::ops
