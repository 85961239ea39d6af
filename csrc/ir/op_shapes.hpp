// Shape and arity rules for every op, checked once when the program is built.
#pragma once
#include <functional>
#include <utility>

#include "ir/program.hpp"

namespace brr::ir {

struct ShapeView {
  std::function<std::size_t(int)> slot_size;
  std::function<std::size_t(int)> index_len;
  std::function<int64_t(int)> index_bound;
  std::function<bool(int)> is_const;
  std::function<std::pair<long, long>(int)> function_dims;  // (in, out) of function id, (-1, -1) if none
};

// Throws ShapeError naming the op and the mismatch; sets the scratch doubles the op needs, shared by
// the evaluation (scratch) and per row thread (worker_scratch).
void check_shapes(const Op& op, const ShapeView& sv, std::size_t& scratch, std::size_t& worker_scratch);

bool is_unary(OpCode c);
bool is_binary(OpCode c);
bool is_transform(OpCode c);
bool is_density(OpCode c);

}  // namespace brr::ir
