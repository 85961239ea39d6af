// Dense linear algebra on parameter matrices (row-major K x K): Cholesky factor and a lower-
// triangular solve, with their reverse-mode adjoints. Sizes are those of covariance factors, so
// the loops are the unblocked textbook ones (ad/linalg_rows.hpp, shared with the device kernels).
#include "ad/kernels.hpp"
#include "ad/linalg_rows.hpp"

namespace brr::ad {

void linalg_forward(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[0];
  if (op.code == OpCode::Cholesky) linalg::cholesky(K, In{c.v(op.in[0])}, Out{c.out(op.out)});
  else linalg::trisolve(K, op.ip[1], In{c.v(op.in[0])}, In{c.v(op.in[1])}, Out{c.out(op.out)});
}

void linalg_backward(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[0];
  double* F = c.ws.scratch.data();
  if (op.code == OpCode::Cholesky) {
    if (double* Abar = c.a(op.in[0])) linalg::cholesky_back(K, In{c.v(op.out)}, In{c.a(op.out)}, Out{F}, Out{Abar});
    return;
  }
  linalg::trisolve_back(K, op.ip[1], In{c.v(op.in[0])}, In{c.v(op.out)}, In{c.a(op.out)}, Out{F}, Out{c.a(op.in[0])},
                        Out{c.a(op.in[1])});
}

}  // namespace brr::ad
