// One row of the ordered logistic / ordered probit likelihoods (category k of K, latent eta, its lower
// and upper cutpoints): the log probability and its derivatives, written once for the CPU kernel
// (density/ordinal.cpp) and the device kernels (backend/grid_kernels.hpp).
#pragma once
#include <cmath>
#include <cstddef>

#include "common/scalar_math.hpp"
#include "common/hd.hpp"

namespace brr::ad::ordinal {

constexpr double kInvSqrt2 = 0.7071067811865476;

// log(1 - exp(u)) for u < 0, accurate at both ends (Maechler 2012).
BRR_HD inline double log1m_exp(double u) { return u > -kLog2 ? std::log(-std::expm1(u)) : std::log1p(-std::exp(u)); }

BRR_HD inline double log_phi(double x) { return -0.5 * x * x - kLogSqrt2Pi; }  // log of the standard normal density

// log Phi(x): erfc where it does not underflow, the asymptotic series below -20 (relative error < 1e-12).
BRR_HD inline double log_Phi(double x) {
  if (x > -20.0) return std::log(0.5 * std::erfc(-x * kInvSqrt2));
  const double z = 1.0 / (x * x);
  const double series = 1.0 - z * (1.0 - 3.0 * z * (1.0 - 5.0 * z * (1.0 - 7.0 * z * (1.0 - 9.0 * z))));
  return log_phi(x) - std::log(-x) + std::log(series);
}

struct RowLp {
  double lp, d_lo, d_hi;  // d lp / d c_lo, d lp / d c_hi (d lp / d eta = -(d_lo + d_hi))
};

// Logistic: P = sigma(e - c_lo) - sigma(e - c_hi). c_lo is read for k > 0, c_hi for k < K - 1.
BRR_HD inline RowLp logistic_row(double e, double c_lo, double c_hi, std::size_t k, std::size_t K) {
  if (k == 0) {  // P = 1 - sigma(e - c_0) = sigma(c_0 - e)
    const double u = c_hi - e;
    return {log_inv_logit(u), 0.0, inv_logit(-u)};
  }
  if (k == K - 1) {  // P = sigma(e - c_{K-2})
    const double a = e - c_lo;
    return {log_inv_logit(a), -inv_logit(-a), 0.0};
  }
  const double a = e - c_lo, b = e - c_hi;
  if (!(a > b)) return {-HUGE_VAL, 0.0, 0.0};  // cutpoints out of order: no probability
  // sigma(a) - sigma(b) = sigma(a) sigma(-b) (1 - exp(b - a))
  const double lp = log_inv_logit(a) + log_inv_logit(-b) + log1m_exp(b - a);
  const double r = 1.0 / std::expm1(a - b);
  const double da = inv_logit(-a) + r, db = -inv_logit(b) - r;
  return {lp, -da, -db};
}

// Probit: P = Phi(c_hi - e) - Phi(c_lo - e).
BRR_HD inline RowLp probit_row(double e, double c_lo, double c_hi, std::size_t k, std::size_t K) {
  if (k == 0) {  // P = Phi(c_0 - e)
    const double u = c_hi - e, lp = log_Phi(u);
    return {lp, 0.0, std::exp(log_phi(u) - lp)};
  }
  if (k == K - 1) {  // P = 1 - Phi(c - e) = Phi(e - c)
    const double l = e - c_lo, lp = log_Phi(l);
    return {lp, -std::exp(log_phi(l) - lp), 0.0};
  }
  const double hi = c_hi - e, lo = c_lo - e;
  if (!(hi > lo)) return {-HUGE_VAL, 0.0, 0.0};
  // in the upper tail use Phi(-lo) - Phi(-hi): the same difference without cancellation near 1
  const double lp = lo > 0 ? log_Phi(-lo) + log1m_exp(log_Phi(-hi) - log_Phi(-lo))
                           : log_Phi(hi) + log1m_exp(log_Phi(lo) - log_Phi(hi));
  return {lp, -std::exp(log_phi(lo) - lp), std::exp(log_phi(hi) - lp)};
}

BRR_HD inline RowLp row_lp(bool probit, double e, double c_lo, double c_hi, std::size_t k, std::size_t K) {
  return probit ? probit_row(e, c_lo, c_hi, k, K) : logistic_row(e, c_lo, c_hi, k, K);
}

}  // namespace brr::ad::ordinal
