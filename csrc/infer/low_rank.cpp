#include "infer/low_rank.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "infer/sym_eigen.hpp"

namespace brr::infer {

namespace {

// Centres each column (dimension) of the n x d matrix and scales it: x -> (x - mean) * scale[i].
std::vector<double> centred_scaled(const std::vector<double>& m, std::size_t n, std::size_t d,
                                   const std::vector<double>& scale, bool divide) {
  std::vector<double> out(m);
  for (std::size_t i = 0; i < d; ++i) {
    double mean = 0.0;
    for (std::size_t r = 0; r < n; ++r) mean += m[r * d + i];
    mean /= static_cast<double>(n);
    const double s = divide ? 1.0 / scale[i] : scale[i];
    for (std::size_t r = 0; r < n; ++r) out[r * d + i] = (m[r * d + i] - mean) * s;
  }
  return out;
}

// Orthonormal basis (rows, each of length d) of the span of the rows of a and b, by modified
// Gram-Schmidt applied twice; rows that are (numerically) in the span already are dropped.
std::vector<std::vector<double>> span_basis(const std::vector<double>& a, const std::vector<double>& b,
                                            std::size_t n, std::size_t d) {
  std::vector<std::vector<double>> basis;
  auto consider = [&](const double* row) {
    std::vector<double> v(row, row + d);
    const double norm0 = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
    if (!(norm0 > 0)) return;
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& u : basis) {
        const double p = std::inner_product(u.begin(), u.end(), v.begin(), 0.0);
        for (std::size_t i = 0; i < d; ++i) v[i] -= p * u[i];
      }
    const double norm = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
    if (norm <= 1e-10 * norm0 || basis.size() >= d) return;
    for (double& x : v) x /= norm;
    basis.push_back(std::move(v));
  };
  for (std::size_t r = 0; r < n; ++r) consider(a.data() + r * d);
  for (std::size_t r = 0; r < n; ++r) consider(b.data() + r * d);
  return basis;
}

// k x k covariance of the n rows of m projected on the basis, plus ridge * I.
std::vector<double> projected_cov(const std::vector<std::vector<double>>& basis, const std::vector<double>& m,
                                  std::size_t n, std::size_t d, double ridge) {
  const std::size_t k = basis.size();
  std::vector<double> proj(n * k);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < k; ++j)
      proj[r * k + j] = std::inner_product(basis[j].begin(), basis[j].end(), m.begin() + r * d, 0.0);
  std::vector<double> c(k * k, 0.0);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i; j < k; ++j) {
      double s = 0.0;
      for (std::size_t r = 0; r < n; ++r) s += proj[r * k + i] * proj[r * k + j];
      c[i * k + j] = c[j * k + i] = s / static_cast<double>(n);
    }
  for (std::size_t i = 0; i < k; ++i) c[i * k + i] += ridge;
  return c;
}

std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, std::size_t k) {
  std::vector<double> c(k * k, 0.0);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t m = 0; m < k; ++m) {
      const double aim = a[i * k + m];
      for (std::size_t j = 0; j < k; ++j) c[i * k + j] += aim * b[m * k + j];
    }
  return c;
}

double sqrt_pos(double x) { return std::sqrt(std::max(x, 0.0)); }
double inv_sqrt_pos(double x) { return 1.0 / std::sqrt(std::max(x, 1e-300)); }

}  // namespace

LowRankFactor estimate_low_rank(const std::vector<double>& draws, const std::vector<double>& grads, std::size_t n,
                                std::size_t d, const std::vector<double>& stds, const LowRankSettings& settings) {
  LowRankFactor out;
  if (n < 3) return out;
  const std::vector<double> x = centred_scaled(draws, n, d, stds, true);   // (q - mean) / std
  const std::vector<double> g = centred_scaled(grads, n, d, stds, false);  // (g - mean) * std
  const auto basis = span_basis(x, g, n, d);
  const std::size_t k = basis.size();
  if (k == 0) return out;
  const double ridge = settings.gamma * static_cast<double>(n);
  const std::vector<double> A = projected_cov(basis, x, n, d, ridge);
  const std::vector<double> B = projected_cov(basis, g, n, d, ridge);
  // SPD geometric mean of A and B^{-1}: B^{-1/2} (B^{1/2} A B^{1/2})^{1/2} B^{-1/2}
  const SymEigen eb = sym_eigen(B, k);
  const std::vector<double> b_half = sym_apply(eb, sqrt_pos), b_inv_half = sym_apply(eb, inv_sqrt_pos);
  const SymEigen ec = sym_eigen(matmul(matmul(b_half, A, k), b_half, k), k);
  const std::vector<double> mean = matmul(matmul(b_inv_half, sym_apply(ec, sqrt_pos), k), b_inv_half, k);
  const SymEigen em = sym_eigen(mean, k);

  std::vector<std::size_t> keep;
  for (std::size_t j = 0; j < k; ++j) {
    const double v = em.values[j];
    if (v > settings.cutoff || v < 1.0 / settings.cutoff) keep.push_back(j);
  }
  std::sort(keep.begin(), keep.end(), [&](std::size_t a, std::size_t b) {
    return std::fabs(std::log(em.values[a])) > std::fabs(std::log(em.values[b]));
  });
  if (keep.size() > settings.max_rank) keep.resize(settings.max_rank);
  std::sort(keep.begin(), keep.end());
  out.vals.reserve(keep.size());
  out.vecs.assign(keep.size() * d, 0.0);
  for (std::size_t r = 0; r < keep.size(); ++r) {
    const std::size_t j = keep[r];
    out.vals.push_back(em.values[j]);
    double* row = out.vecs.data() + r * d;
    for (std::size_t m = 0; m < k; ++m) {
      const double w = em.vectors[m * k + j];
      for (std::size_t i = 0; i < d; ++i) row[i] += w * basis[m][i];
    }
  }
  return out;
}

}  // namespace brr::infer
