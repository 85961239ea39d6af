// Dense linear algebra on parameter matrices (row-major K x K): Cholesky factor and a lower-
// triangular solve, with their reverse-mode adjoints. Sizes are those of covariance factors, so
// the loops are the unblocked textbook ones (ad/linalg_rows.hpp, shared with the device kernels).
#include "ad/kernels.hpp"
#include "ad/linalg_rows.hpp"

namespace brr::ad {

namespace {

In in(const double* p) { return In{p, 1}; }
Out out(double* p) { return Out{p, 1}; }

}  // namespace

void linalg_forward(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[0];
  if (op.code == OpCode::Cholesky) linalg::cholesky(K, in(c.v(op.in[0])), out(c.out(op.out)));
  else linalg::trisolve(K, op.ip[1], in(c.v(op.in[0])), in(c.v(op.in[1])), out(c.out(op.out)));
}

void linalg_backward(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[0];
  double* F = c.ws.scratch.data();
  if (op.code == OpCode::Cholesky) {
    if (double* Abar = c.a(op.in[0])) linalg::cholesky_back(K, in(c.v(op.out)), in(c.a(op.out)), out(F), out(Abar));
    return;
  }
  linalg::trisolve_back(K, op.ip[1], in(c.v(op.in[0])), in(c.v(op.out)), in(c.a(op.out)), out(F), out(c.a(op.in[0])),
                        out(c.a(op.in[1])));
}

}  // namespace brr::ad
