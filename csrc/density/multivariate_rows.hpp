// Multinomial logit rows and Dirichlet log-densities over strided views,
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
#include "ops/densities/categorical_logit.hpp"

namespace brr::ad::rows {

using ops::logits_lse;

// one multinomial-logit row of K counts: each count's cnt (logit - lse) added to lp in category order,
// the logit adjoints to ga when ga is not empty (the multinomial coefficient is the caller's)
BRR_HD inline void multinomial_row(In cnt, In lg, std::size_t K, double& lp, Out ga) {
  const double l = logits_lse(lg, K);
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

}  // namespace brr::ad::rows
