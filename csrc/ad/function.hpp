// A Function (ir/function.hpp) run on the CPU executor, each call on the caller's workspace for its body.
#pragma once
#include "ad/executor.hpp"

namespace brr::ad {

// y = f(x)
void eval(const Function& f, Workspace& ws, const double* x, double* y);
// y = f(x) (when y is non-null) and gx += J(x)^T w (one forward and one reverse sweep)
void vjp(const Function& f, Workspace& ws, const double* x, const double* w, double* y, double* gx);
// y = f(x) and J (out_dim x in_dim, row-major): one reverse sweep per output
void jacobian(const Function& f, Workspace& ws, const double* x, double* y, double* J);

}  // namespace brr::ad
