// Dense linear algebra on parameter matrices (row-major K x K): Cholesky factor and a lower-
// triangular solve, with their reverse-mode adjoints. Sizes are those of covariance factors, so
// the loops are the unblocked textbook ones.
#include <cmath>
#include <limits>

#include "ad/kernels.hpp"

namespace brr::ad {

namespace {

// L = chol(A) from A's lower triangle; NaN everywhere when A is not positive definite (a rejection).
void cholesky_forward(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[0];
  const double* A = c.v(op.in[0]);
  double* L = c.out(op.out);
  for (std::size_t i = 0; i < K * K; ++i) L[i] = 0.0;
  for (std::size_t j = 0; j < K; ++j) {
    double d = A[j * K + j];
    for (std::size_t k = 0; k < j; ++k) d -= L[j * K + k] * L[j * K + k];
    if (!(d > 0)) {
      for (std::size_t i = 0; i < K * K; ++i) L[i] = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    const double ljj = std::sqrt(d);
    L[j * K + j] = ljj;
    for (std::size_t i = j + 1; i < K; ++i) {
      double s = A[i * K + j];
      for (std::size_t k = 0; k < j; ++k) s -= L[i * K + k] * L[j * K + k];
      L[i * K + j] = s / ljj;
    }
  }
}

// Murray (2016), "Differentiation of the Cholesky decomposition", unblocked reverse sweep: the
// adjoint of the lower triangle of A from that of L (A's upper triangle is never read: adjoint 0).
void cholesky_backward(const Op& op, Ctx& c) {
  double* Abar = c.a(op.in[0]);
  if (!Abar) return;
  const std::size_t K = op.ip[0];
  const double* L = c.v(op.out);
  const double* Lbar = c.a(op.out);
  if (!std::isfinite(L[0])) return;  // the forward pass failed: the density is already NaN
  double* F = c.ws.scratch.data();   // K x K working copy of tril(Lbar)
  for (std::size_t i = 0; i < K; ++i)
    for (std::size_t j = 0; j < K; ++j) F[i * K + j] = j <= i ? Lbar[i * K + j] : 0.0;
  for (std::size_t jj = K; jj-- > 0;) {
    const std::size_t j = jj;
    const double ljj = L[j * K + j];
    double dot = 0.0;
    for (std::size_t i = j + 1; i < K; ++i) dot += L[i * K + j] * F[i * K + j];
    F[j * K + j] -= dot / ljj;
    for (std::size_t i = j; i < K; ++i) F[i * K + j] /= ljj;
    for (std::size_t k = 0; k < j; ++k) {
      double s = 0.0;
      for (std::size_t i = j; i < K; ++i) s += F[i * K + j] * L[i * K + k];
      F[j * K + k] -= s;
    }
    for (std::size_t i = j + 1; i < K; ++i)
      for (std::size_t k = 0; k < j; ++k) F[i * K + k] -= F[i * K + j] * L[j * K + k];
    F[j * K + j] *= 0.5;
  }
  for (std::size_t i = 0; i < K; ++i)
    for (std::size_t j = 0; j <= i; ++j) Abar[i * K + j] += F[i * K + j];
}

// X = L^{-1} B for lower-triangular L (K x K) and B (K x m), by forward substitution.
void trisolve_forward(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[0], m = op.ip[1];
  const double* L = c.v(op.in[0]);
  const double* B = c.v(op.in[1]);
  double* X = c.out(op.out);
  for (std::size_t col = 0; col < m; ++col)
    for (std::size_t i = 0; i < K; ++i) {
      double s = B[i * m + col];
      for (std::size_t k = 0; k < i; ++k) s -= L[i * K + k] * X[k * m + col];
      X[i * m + col] = s / L[i * K + i];
    }
}

// Bbar = L^{-T} Xbar (back substitution); Lbar = -tril(Bbar X^T).
void trisolve_backward(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[0], m = op.ip[1];
  const double* L = c.v(op.in[0]);
  const double* X = c.v(op.out);
  const double* Xbar = c.a(op.out);
  double* Lbar = c.a(op.in[0]);
  double* Bbar = c.a(op.in[1]);
  double* G = c.ws.scratch.data();  // K x m: L^{-T} Xbar
  for (std::size_t col = 0; col < m; ++col)
    for (std::size_t ii = K; ii-- > 0;) {
      double s = Xbar[ii * m + col];
      for (std::size_t k = ii + 1; k < K; ++k) s -= L[k * K + ii] * G[k * m + col];
      G[ii * m + col] = s / L[ii * K + ii];
    }
  if (Bbar)
    for (std::size_t i = 0; i < K * m; ++i) Bbar[i] += G[i];
  if (Lbar)
    for (std::size_t i = 0; i < K; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        double s = 0.0;
        for (std::size_t col = 0; col < m; ++col) s += G[i * m + col] * X[j * m + col];
        Lbar[i * K + j] -= s;
      }
}

}  // namespace

void linalg_forward(const Op& op, Ctx& c) {
  if (op.code == OpCode::Cholesky) cholesky_forward(op, c);
  else trisolve_forward(op, c);
}

void linalg_backward(const Op& op, Ctx& c) {
  if (op.code == OpCode::Cholesky) cholesky_backward(op, c);
  else trisolve_backward(op, c);
}

}  // namespace brr::ad
