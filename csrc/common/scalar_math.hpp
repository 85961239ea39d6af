// Numerically stable scalar helpers shared by kernels.
#pragma once
#include <cmath>

#include "common/hd.hpp"

namespace brr {

BRR_HD inline double log1p_exp(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
BRR_HD inline double inv_logit(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
BRR_HD inline double log_inv_logit(double x) { return -log1p_exp(-x); }
BRR_HD inline double log1m_inv_logit(double x) { return -log1p_exp(x); }
BRR_HD inline double digamma(double x) {
  // Asymptotic series after shifting x above 6; accurate to ~1e-13 for x > 0.
  double r = 0.0;
  while (x < 6.0) {
    r -= 1.0 / x;
    x += 1.0;
  }
  const double f = 1.0 / (x * x);
  return r + std::log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}
constexpr double kLogSqrt2Pi = 0.91893853320467274178;
constexpr double kLogPi = 1.14472988584940017414;
constexpr double kLog2 = 0.69314718055994530942;
constexpr double kInf = HUGE_VAL;

// log(e^a + e^b) for finite a, b without overflow (negative binomial: log(mu + phi) from eta, log phi).
BRR_HD inline double log_add_exp(double a, double b) {
  return a > b ? a + std::log1p(std::exp(b - a)) : b + std::log1p(std::exp(a - b));
}

// log(1 + e^eta) and inv_logit(eta) from one exp(-|eta|): the logit likelihoods' hot path.
// log1p(e) is computed as log(u) - ((u - 1) - e) / u with u = 1 + e (the rounding of u corrected to
// first order, accurate to a few ulp): glibc's log1p costs about 3x its log, and 1/u is needed anyway.
BRR_HD inline void softplus_and_sigmoid(double eta, double& sp, double& sg) {
  const double e = std::exp(-std::fabs(eta));
  const double u = 1.0 + e;
  const double r = 1.0 / u;
  sp = (eta > 0 ? eta : 0.0) + (std::log(u) - ((u - 1.0) - e) * r);
  sg = eta >= 0 ? r : e * r;
}

}  // namespace brr
