// Small dense linear algebra (row-major K x K factors, the sizes of covariance factors: the unblocked
// textbook loops) over strided views: stride 1 for one lane, B with lanes interleaved. The Cholesky and
// TriSolve specs (this directory) run them one lane per item.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/hd.hpp"
#include "common/view.hpp"

namespace brr::ops::linalg {

// L = chol(A) from A's lower triangle; NaN everywhere when A is not positive definite (a rejection).
BRR_HD inline void cholesky(std::size_t K, In A, Out L) {
  for (std::size_t i = 0; i < K * K; ++i) L[i] = 0.0;
  for (std::size_t j = 0; j < K; ++j) {
    double d = A[j * K + j];
    for (std::size_t k = 0; k < j; ++k) d -= L[j * K + k] * L[j * K + k];
    if (!(d > 0)) {
      for (std::size_t i = 0; i < K * K; ++i) L[i] = NAN;
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
// F: K x K working space.
BRR_HD inline void cholesky_back(std::size_t K, In L, In Lbar, Out F, Out Abar) {
  if (!std::isfinite(L[0])) return;  // the forward pass failed: the density is already NaN
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
BRR_HD inline void trisolve(std::size_t K, std::size_t m, In L, In B, Out X) {
  for (std::size_t col = 0; col < m; ++col)
    for (std::size_t i = 0; i < K; ++i) {
      double s = B[i * m + col];
      for (std::size_t k = 0; k < i; ++k) s -= L[i * K + k] * X[k * m + col];
      X[i * m + col] = s / L[i * K + i];
    }
}

// Bbar = L^{-T} Xbar (back substitution, into G: K x m); Lbar = -tril(G X^T). Lbar, Bbar may be empty.
BRR_HD inline void trisolve_back(std::size_t K, std::size_t m, In L, In X, In Xbar, Out G, Out Lbar, Out Bbar) {
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

}  // namespace brr::ops::linalg
