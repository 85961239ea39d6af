// LU factorisation with partial pivoting of a small dense matrix (the n x n Newton matrix of an
// implicit ODE step), and solves with it. n is the number of ODE states: tens, not thousands.
#pragma once
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace brr::ode {

class DenseLu {
 public:
  // Factorises A (n x n, row-major; copied). Returns false when A is singular to working precision.
  bool factor(const double* A, std::size_t n) {
    n_ = n;
    lu_.assign(A, A + n * n);
    piv_.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t p = k;
      for (std::size_t i = k + 1; i < n; ++i)
        if (std::abs(lu_[i * n + k]) > std::abs(lu_[p * n + k])) p = i;
      piv_[k] = p;
      if (lu_[p * n + k] == 0.0) return false;
      if (p != k)
        for (std::size_t j = 0; j < n; ++j) std::swap(lu_[k * n + j], lu_[p * n + j]);
      for (std::size_t i = k + 1; i < n; ++i) {
        const double l = lu_[i * n + k] /= lu_[k * n + k];
        for (std::size_t j = k + 1; j < n; ++j) lu_[i * n + j] -= l * lu_[k * n + j];
      }
    }
    return true;
  }
  // b (n values, stride apart) <- A^{-1} b
  void solve(double* b, std::size_t stride = 1) const {
    const std::size_t n = n_;
    auto at = [&](std::size_t i) -> double& { return b[i * stride]; };
    for (std::size_t k = 0; k < n; ++k)
      if (piv_[k] != k) std::swap(at(k), at(piv_[k]));
    for (std::size_t i = 1; i < n; ++i)
      for (std::size_t j = 0; j < i; ++j) at(i) -= lu_[i * n + j] * at(j);
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = i + 1; j < n; ++j) at(i) -= lu_[i * n + j] * at(j);
      at(i) /= lu_[i * n + i];
    }
  }

 private:
  std::size_t n_ = 0;
  std::vector<double> lu_;
  std::vector<std::size_t> piv_;
};

}  // namespace brr::ode
