// A pure vector function compiled as a Program of its own (an ODE right-hand side, a scan step).
// The outer program's ops call it (ad/function.hpp runs it forward and as vector-Jacobian products),
// so a user-written step of any shape runs through the same kernels as the model itself.
#pragma once
#include <cstddef>
#include <memory>

namespace brr::ir {

class Program;

class Function {
 public:
  // body: slot 0 is the input vector; out: the slot holding f(x). Validated (pure: no op adds to
  // the target) and kept immutable.
  Function(std::shared_ptr<const Program> body, int out);

  std::size_t in_dim() const;
  std::size_t out_dim() const;
  const Program& body() const { return *body_; }
  int out() const { return out_; }

 private:
  std::shared_ptr<const Program> body_;
  int out_;
};

}  // namespace brr::ir
