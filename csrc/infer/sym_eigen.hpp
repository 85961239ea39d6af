// Eigen-decomposition of small symmetric matrices (cyclic Jacobi), for the low-rank metric.
// The matrices are at most a few hundred wide and decomposed a handful of times per warm-up, so a
// short, dependency-free, accurate method beats linking LAPACK into the core.
#pragma once
#include <cstddef>
#include <vector>

namespace brr::infer {

struct SymEigen {
  std::vector<double> values;   // k eigenvalues, ascending
  std::vector<double> vectors;  // k x k, column j (vectors[i * k + j]) belongs to values[j]
};

// a: k x k symmetric, row-major. Throws std::runtime_error when an entry is not finite.
SymEigen sym_eigen(std::vector<double> a, std::size_t k);

// f(A) = V diag(f(values)) V^T for a decomposition of A.
std::vector<double> sym_apply(const SymEigen& e, double (*f)(double));

}  // namespace brr::infer
