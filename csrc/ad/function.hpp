// A pure vector function compiled as a Program of its own (an ODE right-hand side, a scan step).
// The outer program's ops call it forward and, for gradients, as vector-Jacobian products, so a
// user-written step of any shape runs through the same kernels as the model itself.
#pragma once
#include <cstddef>
#include <memory>

namespace brr::ad {

class Program;
struct Workspace;

class Function {
 public:
  // body: slot 0 is the input vector; out: the slot holding f(x). Validated (pure: no op adds to
  // the target) and kept immutable.
  Function(std::shared_ptr<const Program> body, int out);

  std::size_t in_dim() const;
  std::size_t out_dim() const;
  const Program& body() const { return *body_; }
  int out() const { return out_; }

  // y = f(x)
  void eval(Workspace& ws, const double* x, double* y) const;
  // y = f(x) and gx += J(x)^T w (one forward and one reverse sweep)
  void vjp(Workspace& ws, const double* x, const double* w, double* y, double* gx) const;
  // y = f(x) and J (out_dim x in_dim, row-major): one reverse sweep per output
  void jacobian(Workspace& ws, const double* x, double* y, double* J) const;

 private:
  void forward(Workspace& ws, const double* x, bool grad) const;
  void backward(Workspace& ws) const;  // the reverse sweep from the adjoints seeded at the output
  std::shared_ptr<const Program> body_;
  int out_;
};

}  // namespace brr::ad
