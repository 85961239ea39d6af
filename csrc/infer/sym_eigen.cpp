#include "infer/sym_eigen.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace brr::infer {

SymEigen sym_eigen(std::vector<double> a, std::size_t k) {
  for (double x : a)
    if (!std::isfinite(x)) throw std::runtime_error("low-rank metric: non-finite covariance entry");
  std::vector<double> v(k * k, 0.0);
  for (std::size_t i = 0; i < k; ++i) v[i * k + i] = 1.0;
  auto A = [&](std::size_t i, std::size_t j) -> double& { return a[i * k + j]; };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0, diag = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
      diag += A(i, i) * A(i, i);
      for (std::size_t j = i + 1; j < k; ++j) off += A(i, j) * A(i, j);
    }
    if (off <= 1e-30 * diag || off == 0.0) break;
    for (std::size_t p = 0; p + 1 < k; ++p)
      for (std::size_t q = p + 1; q < k; ++q) {
        const double apq = A(p, q);
        if (apq == 0.0) continue;
        // rotation that zeroes A(p, q) (Golub & Van Loan, sym.schur2)
        const double tau = (A(q, q) - A(p, p)) / (2.0 * apq);
        const double t = (tau >= 0 ? 1.0 : -1.0) / (std::fabs(tau) + std::sqrt(1.0 + tau * tau));
        const double c = 1.0 / std::sqrt(1.0 + t * t), s = t * c;
        for (std::size_t r = 0; r < k; ++r) {  // A <- A J
          const double arp = A(r, p), arq = A(r, q);
          A(r, p) = c * arp - s * arq;
          A(r, q) = s * arp + c * arq;
        }
        for (std::size_t r = 0; r < k; ++r) {  // A <- J^T A
          const double apr = A(p, r), aqr = A(q, r);
          A(p, r) = c * apr - s * aqr;
          A(q, r) = s * apr + c * aqr;
        }
        for (std::size_t r = 0; r < k; ++r) {  // V <- V J
          const double vrp = v[r * k + p], vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
  }
  std::vector<std::size_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return A(x, x) < A(y, y); });
  SymEigen e;
  e.values.resize(k);
  e.vectors.resize(k * k);
  for (std::size_t j = 0; j < k; ++j) {
    e.values[j] = A(order[j], order[j]);
    for (std::size_t i = 0; i < k; ++i) e.vectors[i * k + j] = v[i * k + order[j]];
  }
  return e;
}

std::vector<double> sym_apply(const SymEigen& e, double (*f)(double)) {
  const std::size_t k = e.values.size();
  std::vector<double> fv(k), out(k * k, 0.0);
  for (std::size_t j = 0; j < k; ++j) fv[j] = f(e.values[j]);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i; j < k; ++j) {
      double s = 0.0;
      for (std::size_t m = 0; m < k; ++m) s += e.vectors[i * k + m] * fv[m] * e.vectors[j * k + m];
      out[i * k + j] = out[j * k + i] = s;
    }
  return out;
}

}  // namespace brr::infer
