// Program construction, with validation of every op as it is added.
#include "ir/program.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ir/glm_codes.hpp"
#include "ir/logp_ops.hpp"
#include "ir/op_shapes.hpp"
#include "ir/program_io.hpp"
#include "common/errors.hpp"

namespace brr::ir {

Program::Program(std::size_t dim) {
  Slot x;
  x.size = dim;
  x.offset = 0;
  x.adj = 0;
  slots_.push_back(x);
  val_size_ = dim;
  adj_size_ = dim;
}

int Program::add_slot(std::size_t size) {
  Slot s;
  s.size = size;
  s.offset = val_size_;
  val_size_ += size;
  slots_.push_back(s);  // gradient need is decided when an op writes it
  return static_cast<int>(slots_.size()) - 1;
}

int Program::add_const(const double* values, std::size_t size) {
  Slot s;
  s.size = size;
  s.constant = true;
  s.offset = const_values_.size();
  const_values_.insert(const_values_.end(), values, values + size);
  slots_.push_back(s);
  return static_cast<int>(slots_.size()) - 1;
}

const CodedColumn* Program::coded(int slot) const {
  const auto it = coded_.find(slot);
  return it != coded_.end() ? &it->second : nullptr;
}

void Program::add_row_copies(const Op& op) {
  if (op.code != OpCode::GlmLpdf && op.code != OpCode::LinearPredictor) return;
  auto code = [this](int slot) {
    const Slot& s = slots_[slot];
    if (!s.constant || coded_.count(slot)) return;
    if (auto c = code_column(const_values_.data() + s.offset, s.size)) coded_.emplace(slot, std::move(*c));
  };
  std::size_t q = 0;
  if (op.code == OpCode::GlmLpdf) {
    code(op.in[op.ip[1]]);  // the response
    q = kGlmHeader;
  }
  for (; q + 3 < op.ip.size(); q += 4) {  // kind, value input, index position, data input
    const int64_t kind = op.ip[q], xi = op.ip[q + 2], di = op.ip[q + 3];
    if (kind != kTermScaled && xi >= 0) {
      const int id = op.idx[xi];
      NarrowIndex& nx = narrow_[id];
      if (nx.u8.empty() && nx.u16.empty()) nx = ir::narrow_index(indices_[id], index_bounds_[id]);
    }
    if (di >= 0) code(op.in[di]);
  }
}

int Program::add_view(int parent, std::size_t offset, std::size_t size) {
  if (parent < 0 || parent >= static_cast<int>(slots_.size()))
    fail("add_view: parent slot ", parent, " does not exist");
  Slot p = slots_[parent];
  if (offset + size > p.size)
    fail("add_view: view [", offset, ", ", offset + size, ") exceeds slot ", parent, " of size ", p.size);
  Slot s = p;
  s.size = size;
  s.view = true;
  s.parent = parent;
  s.offset = p.offset + offset;
  if (p.adj >= 0) s.adj = p.adj + static_cast<std::ptrdiff_t>(offset);
  slots_.push_back(s);
  return static_cast<int>(slots_.size()) - 1;
}

int Program::add_index(const int64_t* values, std::size_t size, int64_t bound) {
  std::vector<int32_t> v(size);
  if (bound > std::numeric_limits<int32_t>::max()) fail("add_index: bound ", bound, " exceeds int32");
  for (std::size_t i = 0; i < size; ++i) {
    if (values[i] < 0 || values[i] >= bound)
      fail("add_index: index value ", values[i], " at position ", i, " is outside [0, ", bound, ")");
    v[i] = static_cast<int32_t>(values[i]);
  }
  narrow_.emplace_back();  // made when an op that reads it narrow is added (add_row_copies)
  indices_.push_back(std::move(v));
  index_bounds_.push_back(bound);
  return static_cast<int>(indices_.size()) - 1;
}

void Program::add_op(Op op) {
  const int ns = static_cast<int>(slots_.size());
  for (int s : op.in)
    if (s < 0 || s >= ns) fail("op ", op_label(op.code), ": input slot ", s, " does not exist");
  for (int i : op.idx)
    if (i < 0 || i >= static_cast<int>(indices_.size()))
      fail("op ", op_label(op.code), ": index array ", i, " does not exist");
  if (op.out >= ns) fail("op ", op_label(op.code), ": output slot ", op.out, " does not exist");
  if (op.out >= 0) {
    const Slot& o = slots_[op.out];
    if (o.constant || o.view || op.out == 0)
      fail("op ", op_label(op.code), ": output slot ", op.out, " is read-only");
    for (const Op& prev : ops_)
      if (prev.out == op.out) fail("op ", op_label(op.code), ": slot ", op.out, " written twice");
  }
  ShapeView sv{[this](int s) { return slots_[s].size; },
               [this](int i) { return indices_[i].size(); },
               [this](int i) { return index_bounds_[i]; },
               [this](int s) { return slots_[s].constant; },
               [this](int f) -> std::pair<long, long> {
                 if (f < 0 || f >= static_cast<int>(functions_.size())) return {-1, -1};
                 return {static_cast<long>(functions_[f].in_dim()), static_cast<long>(functions_[f].out_dim())};
               }};
  std::size_t scratch = 0, worker_scratch = 0;
  check_shapes(op, sv, scratch, worker_scratch);
  scratch_size_ = std::max(scratch_size_, scratch);
  worker_scratch_size_ = std::max(worker_scratch_size_, worker_scratch);
  if (op.code == OpCode::GlmLpdf && glm_chunks(slots_[op.in[op.ip[1]]].size) > 1) row_chunked_ = true;
  add_row_copies(op);
  if (op.out >= 0) {
    bool grad = false;
    for (int s : op.in) grad |= slots_[s].adj >= 0;
    if (grad) {
      slots_[op.out].adj = static_cast<std::ptrdiff_t>(adj_size_);
      adj_size_ += slots_[op.out].size;
    }
  }
  op_slot_counts_.push_back(slots_.size());
  ops_.push_back(std::move(op));
}

int Program::add_function(const Program& body, int out) {
  if (body.num_functions() > 0) fail("add_function: a function body may not call functions itself");
  functions_.emplace_back(deserialize(serialize(body)), out);  // a private copy: immutable from here
  return static_cast<int>(functions_.size()) - 1;
}

std::vector<std::size_t> Program::ops_for(const std::vector<int>& slots) const {
  for (int s : slots)
    if (s < 0 || s >= static_cast<int>(slots_.size())) fail("ops_for: slot ", s, " does not exist");
  return ops_reaching(*this, slots, std::vector<char>(ops_.size(), 0));
}

}  // namespace brr::ir
