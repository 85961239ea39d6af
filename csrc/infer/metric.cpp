// Metric algebra, including the dense Cholesky factor used to draw momenta.
#include "infer/metric.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/lane_pairs.hpp"
#include "common/leapfrog_math.hpp"
#include "common/reduce.hpp"

namespace brr::infer {

Metric::Metric(std::size_t n, bool dense) : n_(n), dense_(dense) {
  set_inv_diag(std::vector<double>(n, 1.0));
  if (dense) {
    std::vector<double> eye(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i) eye[i * n + i] = 1.0;
    set_inv_dense(eye);
  }
}

void Metric::set_inv_diag(const std::vector<double>& d) {
  low_rank_ = LowRankFactor{};
  inv_diag_ = d;
  inv_sqrt_diag_.resize(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (!(d[i] > 0) || !std::isfinite(d[i])) throw std::runtime_error("metric: non-positive or non-finite variance");
    inv_sqrt_diag_[i] = std::sqrt(d[i]);
  }
}

void Metric::set_low_rank(const std::vector<double>& d, const LowRankFactor& f) {
  if (f.vecs.size() != f.rank() * d.size()) throw std::runtime_error("metric: low-rank factor has the wrong size");
  for (double v : f.vals)
    if (!(v > 0) || !std::isfinite(v)) throw std::runtime_error("metric: non-positive low-rank eigenvalue");
  set_inv_diag(d);
  low_rank_ = f;
  lr_vals_m1_.resize(f.rank());
  lr_sqrt_vals_m1_.resize(f.rank());
  for (std::size_t j = 0; j < f.rank(); ++j) {
    lr_vals_m1_[j] = f.vals[j] - 1.0;
    lr_sqrt_vals_m1_[j] = 1.0 / std::sqrt(f.vals[j]) - 1.0;
  }
  tmp_.resize(d.size());
}

void Metric::add_low_rank(const std::vector<double>& coef, double* x) const {
  std::copy(x, x + n_, tmp_.begin());
  for (std::size_t j = 0; j < low_rank_.rank(); ++j) {
    const double* u = low_rank_.vecs.data() + j * n_;
    const double t = coef[j] * lane_sum(n_, [u, this](std::size_t i) { return u[i] * tmp_[i]; });
    for (std::size_t i = 0; i < n_; ++i) x[i] += t * u[i];
  }
}

void Metric::set_inv_dense(const std::vector<double>& m) {
  const std::size_t n = n_;
  std::vector<double> L(n * n, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    double s = m[j * n + j];
    for (std::size_t k = 0; k < j; ++k) s -= L[j * n + k] * L[j * n + k];
    if (!(s > 0) || !std::isfinite(s)) throw std::runtime_error("metric: covariance is not positive definite");
    L[j * n + j] = std::sqrt(s);
    for (std::size_t i = j + 1; i < n; ++i) {
      double t = m[i * n + j];
      for (std::size_t k = 0; k < j; ++k) t -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = t / L[j * n + j];
    }
  }
  inv_dense_ = m;
  chol_ = std::move(L);
}

void Metric::velocity(const double* p, double* v) const {
  if (!dense_ && low_rank_.rank() > 0) {  // v = S (y + U ((vals - 1) * U^T y)), y = S p
    const double* s = inv_sqrt_diag_.data();
    for (std::size_t i = 0; i < n_; ++i) v[i] = s[i] * p[i];
    add_low_rank(lr_vals_m1_, v);
    for (std::size_t i = 0; i < n_; ++i) v[i] *= s[i];
    return;
  }
  if (!dense_) {
    for (std::size_t i = 0; i < n_; ++i) v[i] = inv_diag_[i] * p[i];
    return;
  }
  for (std::size_t i = 0; i < n_; ++i) {
    const double* row = inv_dense_.data() + i * n_;
    v[i] = lane_sum(n_, [row, p](std::size_t j) { return row[j] * p[j]; });
  }
}

double Metric::kinetic(const double* p, const double* v) const {
  return 0.5 * lane_sum(n_, [p, v](std::size_t i) { return p[i] * v[i]; });
}

void Metric::drift(const double* q0, const double* p0, const double* g0, double* q, double* p, double half_eps,
                   double eps, double* v) const {
  if (diagonal()) {
    const double* m = inv_diag_.data();
    for (std::size_t i = 0; i < n_; ++i) {
      p[i] = half_kicked(p0[i], half_eps, g0[i]);
      q[i] = drifted(q0[i], eps, m[i] * p[i]);
    }
    return;
  }
  for (std::size_t i = 0; i < n_; ++i) p[i] = half_kicked(p0[i], half_eps, g0[i]);
  velocity(p, v);
  for (std::size_t i = 0; i < n_; ++i) q[i] = drifted(q0[i], eps, v[i]);
}

double Metric::kick(double* p, const double* g, double half_eps, double* v) const {
  if (diagonal()) {
    const double* m = inv_diag_.data();
    const Pair h = {half_eps, half_eps};
    Pair lo = {0.0, 0.0}, hi = lo;
    std::size_t i = 0;
    for (; i + 4 <= n_; i += 4) {
      const Pair p_lo = half_kicked(load_pair(p + i), h, load_pair(g + i));
      const Pair p_hi = half_kicked(load_pair(p + i + 2), h, load_pair(g + i + 2));
      const Pair v_lo = load_pair(m + i) * p_lo, v_hi = load_pair(m + i + 2) * p_hi;
      store_pair(p + i, p_lo);
      store_pair(p + i + 2, p_hi);
      store_pair(v + i, v_lo);
      store_pair(v + i + 2, v_hi);
      lo += p_lo * v_lo;
      hi += p_hi * v_hi;
    }
    for (; i < n_; ++i) {  // the tail goes to lane 0, as in lane_sum
      p[i] = half_kicked(p[i], half_eps, g[i]);
      v[i] = m[i] * p[i];
      lo[0] += p[i] * v[i];
    }
    return 0.5 * lane_total(lo, hi);
  }
  for (std::size_t i = 0; i < n_; ++i) p[i] = half_kicked(p[i], half_eps, g[i]);
  velocity(p, v);
  return kinetic(p, v);
}

void Metric::sample_momentum(Rng& rng, double* p) const {
  rng.normals(p, n_);
  if (!dense_) {  // p = S^{-1} z, with the low-rank factor p = S^{-1} (z + U ((vals^{-1/2} - 1) * U^T z))
    if (low_rank_.rank() > 0) add_low_rank(lr_sqrt_vals_m1_, p);
    for (std::size_t i = 0; i < n_; ++i) p[i] /= inv_sqrt_diag_[i];
    return;
  }
  for (std::size_t i = n_; i-- > 0;) {  // back-substitution: L^T p = z
    double s = p[i];
    for (std::size_t k = i + 1; k < n_; ++k) s -= chol_[k * n_ + i] * p[k];
    p[i] = s / chol_[i * n_ + i];
  }
}

}  // namespace brr::infer
