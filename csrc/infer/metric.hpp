// Euclidean metric: diagonal, dense or low-rank + diagonal inverse mass matrix M^{-1}; momentum p ~ N(0, M).
#pragma once
#include <vector>

#include "infer/low_rank.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

class Metric {
 public:
  Metric() = default;
  Metric(std::size_t n, bool dense);
  void set_inv_diag(const std::vector<double>& d);
  void set_inv_dense(const std::vector<double>& m);  // throws std::runtime_error when not SPD
  // M^{-1} = S (I + U (diag(vals) - 1) U^T) S with S = sqrt(diag(d)); an empty factor is diag(d).
  void set_low_rank(const std::vector<double>& d, const LowRankFactor& f);
  void velocity(const double* p, double* v) const;   // v = M^{-1} p
  double kinetic(const double* p, const double* v) const;
  // The leapfrog's two halves, one pass each for a diagonal metric:
  // drift: p = p0 + half_eps g0, then q = q0 + eps M^{-1} p (in place when the pointers coincide;
  // v is scratch for the other metrics); kick: p += half_eps g, v = M^{-1} p; returns p.v / 2.
  void drift(const double* q0, const double* p0, const double* g0, double* q, double* p, double half_eps, double eps,
             double* v) const;
  double kick(double* p, const double* g, double half_eps, double* v) const;
  void sample_momentum(Rng& rng, double* p) const;   // p = L^{-T} z with M^{-1} = L L^T
  bool dense() const { return dense_; }
  bool diagonal() const { return !dense_ && low_rank_.rank() == 0; }
  std::size_t dim() const { return n_; }
  const std::vector<double>& inv_diag() const { return inv_diag_; }
  const std::vector<double>& inv_dense() const { return inv_dense_; }
  const LowRankFactor& low_rank() const { return low_rank_; }

 private:
  std::size_t n_ = 0;
  bool dense_ = false;
  std::vector<double> inv_diag_, inv_sqrt_diag_, inv_dense_, chol_;
  LowRankFactor low_rank_;
  std::vector<double> lr_vals_m1_;       // vals - 1, for the velocity
  std::vector<double> lr_sqrt_vals_m1_;  // vals^{-1/2} - 1, for drawing momenta
  mutable std::vector<double> tmp_;      // a copy of x for add_low_rank
  // x += U diag(coef) U^T x, the low-rank correction shared by velocity and momentum draws
  void add_low_rank(const std::vector<double>& coef, double* x) const;
};

}  // namespace brr::infer
