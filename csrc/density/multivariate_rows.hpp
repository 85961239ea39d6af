// Categorical and multinomial logit rows, Dirichlet, multivariate normal (Cholesky) and LKJ (Cholesky)
// log-densities over strided views,
// written once for the CPU kernels (density/multivariate.cpp, stride 1) and the device kernels
// (backend/grid_kernels.hpp, stride B: one lane per thread). Each returns the log density, -inf at an
// invalid point (then the adjoints hold partial sums that no one reads), and adds its partials to the
// adjoint views that are not empty.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/scalar_math.hpp"
#include "common/hd.hpp"
#include "common/view.hpp"

namespace brr::ad::rows {

// log-sum-exp of x[0 .. K): the maximum itself when it is not finite
BRR_HD inline double lse(In x, std::size_t K) {
  double m = -HUGE_VAL;
  for (std::size_t k = 0; k < K; ++k) m = m < x[k] ? x[k] : m;
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (std::size_t k = 0; k < K; ++k) s += std::exp(x[k] - m);
  return m + std::log(s);
}

// one categorical-logit row of K logits, category cat (checked by the caller), weight w: returns
// w (logit[cat] - lse) and adds its logit adjoints to ga when ga is not empty
BRR_HD inline double categorical_row(In lg, std::size_t K, std::size_t cat, double w, Out ga) {
  const double l = lse(lg, K);
  if (ga) {
    for (std::size_t k = 0; k < K; ++k) ga[k] -= w * std::exp(lg[k] - l);
    ga[cat] += w;
  }
  return w * (lg[cat] - l);
}

// one multinomial-logit row of K counts: each count's cnt (logit - lse) added to lp in category order,
// the logit adjoints to ga when ga is not empty (the multinomial coefficient is the caller's)
BRR_HD inline void multinomial_row(In cnt, In lg, std::size_t K, double& lp, Out ga) {
  const double l = lse(lg, K);
  double n = 0.0;
  for (std::size_t k = 0; k < K; ++k) {
    n += cnt[k];
    if (cnt[k] > 0) lp += cnt[k] * (lg[k] - l);
  }
  if (ga)
    for (std::size_t k = 0; k < K; ++k) ga[k] += cnt[k] - n * std::exp(lg[k] - l);
}

// b rows of K: x ~ Dirichlet(alpha)
BRR_HD inline double dirichlet(std::size_t b, std::size_t K, In x, In al, Out xa, Out aa) {
  double lp = 0.0;
  for (std::size_t r = 0; r < b; ++r) {
    double sa = 0.0;
    for (std::size_t k = 0; k < K; ++k) {
      const double a = al[r * K + k], xi = x[r * K + k];
      if (!(a > 0) || !(xi > 0)) return -HUGE_VAL;
      sa += a;
      lp += (a - 1.0) * std::log(xi) - std::lgamma(a);
    }
    lp += std::lgamma(sa);
    const double dsa = digamma(sa);
    for (std::size_t k = 0; k < K; ++k) {
      const std::size_t i = r * K + k;
      if (xa) xa[i] += (al[i] - 1.0) / x[i];
      if (aa) aa[i] += dsa - digamma(al[i]) + std::log(x[i]);
    }
  }
  return lp;
}

// b rows x ~ N(mu, L L^T), L lower-triangular row-major; w = L^{-1}(x - mu), u = L^{-T} w (K each).
BRR_HD inline double mvnormal_cholesky(std::size_t b, std::size_t K, In x, In mu, In L, Out xa, Out ma, Out La,
                                       Out w, Out u) {
  double logdet = 0.0;
  for (std::size_t i = 0; i < K; ++i) {
    if (!(L[i * K + i] > 0)) return -HUGE_VAL;
    logdet += std::log(L[i * K + i]);
  }
  double lp = -static_cast<double>(b) * (static_cast<double>(K) * kLogSqrt2Pi + logdet);
  for (std::size_t r = 0; r < b; ++r) {
    for (std::size_t i = 0; i < K; ++i) {
      double s = x[r * K + i] - mu[r * K + i];
      for (std::size_t j = 0; j < i; ++j) s -= L[i * K + j] * w[j];
      w[i] = s / L[i * K + i];
      lp -= 0.5 * w[i] * w[i];
    }
    if (!(xa || ma || La)) continue;
    for (std::size_t i = K; i-- > 0;) {
      double s = w[i];
      for (std::size_t j = i + 1; j < K; ++j) s -= L[j * K + i] * u[j];
      u[i] = s / L[i * K + i];
    }
    for (std::size_t i = 0; i < K; ++i) {
      if (xa) xa[r * K + i] -= u[i];
      if (ma) ma[r * K + i] += u[i];
    }
    if (La)
      for (std::size_t i = 0; i < K; ++i)
        for (std::size_t j = 0; j <= i; ++j) La[i * K + j] += u[i] * w[j];
  }
  if (La)
    for (std::size_t i = 0; i < K; ++i) La[i * K + i] -= static_cast<double>(b) / L[i * K + i];
  return lp;
}

// LKJ(eta) on the Cholesky factor of a K x K correlation matrix (Lewandowski et al. 2009); ea: eta's
// adjoint, nullptr for none.
BRR_HD inline double lkj_cholesky(std::size_t K, In L, double eta, Out La, double* ea) {
  if (!(eta > 0)) return -HUGE_VAL;
  double lp = 0.0, dlp_deta = 0.0;
  for (std::size_t k = 1; k < K; ++k) {  // log normalising constant, subtracted
    const double m = static_cast<double>(K - k);
    const double a = eta + 0.5 * (m - 1.0);
    lp -= (2.0 * eta - 2.0 + m) * m * kLog2 + m * (2.0 * std::lgamma(a) - std::lgamma(2.0 * a));
    dlp_deta -= 2.0 * m * kLog2 + m * (2.0 * digamma(a) - 2.0 * digamma(2.0 * a));
  }
  for (std::size_t i = 1; i < K; ++i) {
    const double Lii = L[i * K + i];
    if (!(Lii > 0)) return -HUGE_VAL;
    const double coef = static_cast<double>(K - i - 1) + 2.0 * eta - 2.0;
    lp += coef * std::log(Lii);
    dlp_deta += 2.0 * std::log(Lii);
    if (La) La[i * K + i] += coef / Lii;
  }
  if (ea) *ea += dlp_deta;
  return lp;
}

}  // namespace brr::ad::rows
