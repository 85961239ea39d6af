// Function: a body Program checked to be pure.
#include "ir/function.hpp"

#include "common/errors.hpp"
#include "ir/op_shapes.hpp"
#include "ir/program.hpp"

namespace brr::ir {

Function::Function(std::shared_ptr<const Program> body, int out) : body_(std::move(body)), out_(out) {
  if (!body_) fail("add_function: the body program is missing");
  if (out < 0 || out >= static_cast<int>(body_->num_slots()))
    fail("add_function: output slot ", out, " does not exist in the body (", body_->num_slots(), " slots)");
  for (const Op& op : body_->ops())
    if (op.out < 0 || is_transform(op.code))
      fail("add_function: the body adds to the log density (op ", op_label(op.code),
           "); a function body must be a pure expression of its inputs");
}

std::size_t Function::in_dim() const { return body_->dim(); }
std::size_t Function::out_dim() const { return body_->slot(out_).size; }

}  // namespace brr::ir
