// Fused multivariate log-densities over a batch of vectors of length K (row-major (batch, K)).
#include <cmath>

#include "ad/kernels.hpp"
#include "ad/scalar_math.hpp"
#include "common/errors.hpp"
#include "density/density_kernels.hpp"

namespace brr::ad {

namespace {

double lse_row(const double* x, std::size_t K) {
  double m = -HUGE_VAL;
  for (std::size_t k = 0; k < K; ++k) m = std::max(m, x[k]);
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (std::size_t k = 0; k < K; ++k) s += std::exp(x[k] - m);
  return m + std::log(s);
}

void categorical_logit(const Op& op, Ctx& c) {
  const std::size_t b = op.ip[0], K = op.ip[1];
  const double* y = c.v(op.in[0]);
  const double* lg = c.v(op.in[1]);
  double* ga = c.a(op.in[1]);
  const double* w = op.in.size() > 2 ? c.v(op.in[2]) : nullptr;  // merged rows: their counts
  double lp = 0.0;
  for (std::size_t r = 0; r < b; ++r) {
    const double* row = lg + r * K;
    const double lse = lse_row(row, K);
    if (!(y[r] >= 0 && y[r] < static_cast<double>(K))) {  // checked in Python; never index out of range here
      c.target = -HUGE_VAL;
      return;
    }
    const std::size_t cat = static_cast<std::size_t>(y[r]);
    const double wr = w ? w[r] : 1.0;
    lp += wr * (row[cat] - lse);
    if (ga) {
      for (std::size_t k = 0; k < K; ++k) ga[r * K + k] -= wr * std::exp(row[k] - lse);
      ga[r * K + cat] += wr;
    }
  }
  c.target += lp;
}

void multinomial_logit(const Op& op, Ctx& c) {  // the multinomial coefficient is the op's constant
  const std::size_t b = op.ip[0], K = op.ip[1];
  const double* y = c.v(op.in[0]);
  const double* lg = c.v(op.in[1]);
  double* ga = c.a(op.in[1]);
  double lp = op.dp.empty() ? 0.0 : op.dp[0];
  for (std::size_t r = 0; r < b; ++r) {
    const double* row = lg + r * K;
    const double* cnt = y + r * K;
    const double lse = lse_row(row, K);
    double n = 0.0;
    for (std::size_t k = 0; k < K; ++k) {
      n += cnt[k];
      if (cnt[k] > 0) lp += cnt[k] * (row[k] - lse);
    }
    if (ga)
      for (std::size_t k = 0; k < K; ++k) ga[r * K + k] += cnt[k] - n * std::exp(row[k] - lse);
  }
  c.target += lp;
}

void dirichlet(const Op& op, Ctx& c) {
  const std::size_t b = op.ip[0], K = op.ip[1];
  const double* x = c.v(op.in[0]);
  const double* al = c.v(op.in[1]);
  double* xa = c.a(op.in[0]);
  double* aa = c.a(op.in[1]);
  double lp = 0.0;
  for (std::size_t r = 0; r < b; ++r) {
    double sa = 0.0;
    for (std::size_t k = 0; k < K; ++k) {
      const double a = al[r * K + k], xi = x[r * K + k];
      if (!(a > 0) || !(xi > 0)) {
        c.target = -HUGE_VAL;
        return;
      }
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
  c.target += lp;
}

// x ~ N(mu, L L^T), L lower-triangular row-major; w = L^{-1}(x - mu), u = L^{-T} w.
void mvnormal_cholesky(const Op& op, Ctx& c) {
  const std::size_t b = op.ip[0], K = op.ip[1];
  const double* x = c.v(op.in[0]);
  const double* mu = c.v(op.in[1]);
  const double* L = c.v(op.in[2]);
  double* xa = c.a(op.in[0]);
  double* ma = c.a(op.in[1]);
  double* La = c.a(op.in[2]);
  double* w = c.ws.scratch.data();
  double* u = w + K;
  double logdet = 0.0;
  for (std::size_t i = 0; i < K; ++i) {
    if (!(L[i * K + i] > 0)) {
      c.target = -HUGE_VAL;
      return;
    }
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
  c.target += lp;
}

// LKJ(eta) on the Cholesky factor of a K x K correlation matrix (Lewandowski et al. 2009).
void lkj_cholesky(const Op& op, Ctx& c) {
  const std::size_t K = op.ip[1];
  const double* L = c.v(op.in[0]);
  const double eta = c.v(op.in[1])[0];
  double* La = c.a(op.in[0]);
  double* ea = c.a(op.in[1]);
  if (!(eta > 0)) {
    c.target = -HUGE_VAL;
    return;
  }
  double lp = 0.0, dlp_deta = 0.0;
  for (std::size_t k = 1; k < K; ++k) {  // log normalising constant, subtracted
    const double m = static_cast<double>(K - k);
    const double a = eta + 0.5 * (m - 1.0);
    lp -= (2.0 * eta - 2.0 + m) * m * kLog2 + m * (2.0 * std::lgamma(a) - std::lgamma(2.0 * a));
    dlp_deta -= 2.0 * m * kLog2 + m * (2.0 * digamma(a) - 2.0 * digamma(2.0 * a));
  }
  for (std::size_t i = 1; i < K; ++i) {
    const double Lii = L[i * K + i];
    if (!(Lii > 0)) {
      c.target = -HUGE_VAL;
      return;
    }
    const double coef = static_cast<double>(K - i - 1) + 2.0 * eta - 2.0;
    lp += coef * std::log(Lii);
    dlp_deta += 2.0 * std::log(Lii);
    if (La) La[i * K + i] += coef / Lii;
  }
  if (ea) ea[0] += dlp_deta;
  c.target += lp;
}

// ICAR pairwise differences over an edge list: value and gradient in one pass over the edges.
void icar_pairwise(const Op& op, Ctx& c) {
  const double* phi = c.v(op.in[0]);
  double* pa = c.a(op.in[0]);
  const int32_t* i1 = c.index(op.idx[0]);
  const int32_t* i2 = c.index(op.idx[1]);
  const std::size_t m = c.index_len(op.idx[0]);
  double lp = 0.0;
  for (std::size_t e = 0; e < m; ++e) {
    const double d = phi[i1[e]] - phi[i2[e]];
    lp += d * d;
    if (pa) {
      pa[i1[e]] -= d;
      pa[i2[e]] += d;
    }
  }
  c.target += -0.5 * lp;
}

}  // namespace

bool multivariate_density(const Op& op, Ctx& c) {
  switch (op.code) {
    case OpCode::CategoricalLogitLpmf: categorical_logit(op, c); return true;
    case OpCode::MultinomialLogitLpmf: multinomial_logit(op, c); return true;
    case OpCode::DirichletLpdf: dirichlet(op, c); return true;
    case OpCode::MvNormalCholeskyLpdf: mvnormal_cholesky(op, c); return true;
    case OpCode::LkjCholeskyLpdf: lkj_cholesky(op, c); return true;
    case OpCode::IcarPairwiseLpdf: icar_pairwise(op, c); return true;
    default: return false;
  }
}

void density_forward(const Op& op, Ctx& c) {
  if (univariate_density(op, c) || multivariate_density(op, c) || ordinal_density(op, c) || glm_density(op, c))
    return;
  fail("density op ", op_label(op.code), " has no kernel");
}

}  // namespace brr::ad
