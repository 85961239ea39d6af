// The per-element log-densities of the univariate families: f(p, d) returns log p(p[0] | p[1..]) and
// writes its partials to d. One source for every backend: the fused sums (univariate.cpp), the
// PointwiseLpdf op, the lane-interleaved batch kernels (ad/batch_kernels.cpp) and device code (BRR_HD).
#pragma once
#include <cmath>
#include <type_traits>

#include "ir/op_arity.hpp"
#include "ir/op_codes.hpp"
#include "common/scalar_math.hpp"
#include "common/hd.hpp"

namespace brr::ad::terms {

using ir::OpCode;
using ir::univariate_arity;

constexpr double NEG_INF = -HUGE_VAL;

BRR_HD inline double normal(const double* p, double* d) {
  const double x = p[0], mu = p[1], s = p[2];
  if (!(s > 0)) return NEG_INF;
  const double z = (x - mu) / s;
  d[0] = -z / s;
  d[1] = z / s;
  d[2] = (z * z - 1.0) / s;
  return -0.5 * z * z - std::log(s) - kLogSqrt2Pi;
}

BRR_HD inline double student_t(const double* p, double* d) {
  const double x = p[0], nu = p[1], mu = p[2], s = p[3];
  if (!(s > 0) || !(nu > 0)) return NEG_INF;
  const double z = (x - mu) / s, t = z * z / nu;
  const double dz = -(nu + 1.0) * z / (nu + z * z);
  d[0] = dz / s;
  d[2] = -dz / s;
  d[3] = -1.0 / s - dz * z / s;
  d[1] = 0.5 * digamma(0.5 * (nu + 1.0)) - 0.5 * digamma(0.5 * nu) - 0.5 / nu - 0.5 * std::log1p(t) +
         0.5 * (nu + 1.0) * t / (nu * (1.0 + t));
  return std::lgamma(0.5 * (nu + 1.0)) - std::lgamma(0.5 * nu) - 0.5 * (std::log(nu) + kLogPi) - std::log(s) -
         0.5 * (nu + 1.0) * std::log1p(t);
}

BRR_HD inline double cauchy(const double* p, double* d) {
  const double x = p[0], mu = p[1], s = p[2];
  if (!(s > 0)) return NEG_INF;
  const double z = (x - mu) / s, dz = -2.0 * z / (1.0 + z * z);
  d[0] = dz / s;
  d[1] = -dz / s;
  d[2] = -1.0 / s - dz * z / s;
  return -kLogPi - std::log(s) - std::log1p(z * z);
}

BRR_HD inline double laplace(const double* p, double* d) {
  const double x = p[0], mu = p[1], b = p[2];
  if (!(b > 0)) return NEG_INF;
  const double r = x - mu, sg = r > 0 ? 1.0 : (r < 0 ? -1.0 : 0.0);
  d[0] = -sg / b;
  d[1] = sg / b;
  d[2] = -1.0 / b + std::fabs(r) / (b * b);
  return -kLog2 - std::log(b) - std::fabs(r) / b;
}

BRR_HD inline double exponential(const double* p, double* d) {
  const double x = p[0], lam = p[1];
  if (!(lam > 0) || x < 0) return NEG_INF;
  d[0] = -lam;
  d[1] = 1.0 / lam - x;
  return std::log(lam) - lam * x;
}

BRR_HD inline double gamma_(const double* p, double* d) {
  const double x = p[0], al = p[1], be = p[2];
  if (!(al > 0) || !(be > 0) || !(x > 0)) return NEG_INF;
  const double lx = std::log(x), lb = std::log(be);
  d[0] = (al - 1.0) / x - be;
  d[1] = lb - digamma(al) + lx;
  d[2] = al / be - x;
  return al * lb - std::lgamma(al) + (al - 1.0) * lx - be * x;
}

BRR_HD inline double inv_gamma(const double* p, double* d) {
  const double x = p[0], al = p[1], be = p[2];
  if (!(al > 0) || !(be > 0) || !(x > 0)) return NEG_INF;
  const double lx = std::log(x), lb = std::log(be);
  d[0] = -(al + 1.0) / x + be / (x * x);
  d[1] = lb - digamma(al) - lx;
  d[2] = al / be - 1.0 / x;
  return al * lb - std::lgamma(al) - (al + 1.0) * lx - be / x;
}

BRR_HD inline double lognormal(const double* p, double* d) {
  const double x = p[0], mu = p[1], s = p[2];
  if (!(s > 0) || !(x > 0)) return NEG_INF;
  const double lx = std::log(x), z = (lx - mu) / s;
  d[0] = -1.0 / x - z / (s * x);
  d[1] = z / s;
  d[2] = (z * z - 1.0) / s;
  return -lx - std::log(s) - kLogSqrt2Pi - 0.5 * z * z;
}

BRR_HD inline double beta_(const double* p, double* d) {
  const double x = p[0], a = p[1], b = p[2];
  if (!(a > 0) || !(b > 0) || !(x > 0) || !(x < 1)) return NEG_INF;
  const double lx = std::log(x), l1x = std::log1p(-x), dab = digamma(a + b);
  d[0] = (a - 1.0) / x - (b - 1.0) / (1.0 - x);
  d[1] = dab - digamma(a) + lx;
  d[2] = dab - digamma(b) + l1x;
  return std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + (a - 1.0) * lx + (b - 1.0) * l1x;
}

BRR_HD inline double uniform(const double* p, double* d) {
  const double x = p[0], lo = p[1], hi = p[2];
  if (!(lo < hi) || x < lo || x > hi) return NEG_INF;
  d[0] = 0.0;
  d[1] = 1.0 / (hi - lo);
  d[2] = -1.0 / (hi - lo);
  return -std::log(hi - lo);
}

BRR_HD inline double bernoulli_logit(const double* p, double* d) {
  const double y = p[0], eta = p[1];
  double sp, sg;
  softplus_and_sigmoid(eta, sp, sg);
  d[0] = 0.0;
  d[1] = y - sg;
  return y * eta - sp;
}

BRR_HD inline double binomial_logit(const double* p, double* d) {  // log C(n, y) is in the op's constant
  const double y = p[0], n = p[1], eta = p[2];
  double sp, sg;
  softplus_and_sigmoid(eta, sp, sg);
  d[0] = d[1] = 0.0;
  d[2] = y - n * sg;
  return y * eta - n * sp;
}

BRR_HD inline double poisson_log(const double* p, double* d) {  // -log y! is in the op's constant
  const double y = p[0], eta = p[1], mu = std::exp(eta);
  d[0] = 0.0;
  d[1] = y - mu;
  return y * eta - mu;
}

BRR_HD inline double neg_binomial_log(const double* p, double* d) {  // -log y! is in the op's constant
  const double y = p[0], eta = p[1], phi = p[2];
  if (!(phi > 0)) return NEG_INF;
  const double lphi = std::log(phi);
  const double lmp = log_add_exp(eta, lphi);
  const double r = std::exp(eta - lmp);  // mu / (mu + phi)
  d[0] = 0.0;
  d[1] = y - (y + phi) * r;
  d[2] = digamma(y + phi) - digamma(phi) + lphi + 1.0 - lmp - (phi + y) / std::exp(lmp);
  return std::lgamma(y + phi) - std::lgamma(phi) + phi * (lphi - lmp) + y * (eta - lmp);
}


// The univariate density kernels by op code: calls fn(arity, kernel); false for any other code.
template <class Fn>
bool with_kernel(OpCode code, Fn fn) {
  switch (code) {
    case OpCode::NormalLpdf: fn(std::integral_constant<int, 3>{}, normal); return true;
    case OpCode::StudentTLpdf: fn(std::integral_constant<int, 4>{}, student_t); return true;
    case OpCode::CauchyLpdf: fn(std::integral_constant<int, 3>{}, cauchy); return true;
    case OpCode::LaplaceLpdf: fn(std::integral_constant<int, 3>{}, laplace); return true;
    case OpCode::ExponentialLpdf: fn(std::integral_constant<int, 2>{}, exponential); return true;
    case OpCode::GammaLpdf: fn(std::integral_constant<int, 3>{}, gamma_); return true;
    case OpCode::InvGammaLpdf: fn(std::integral_constant<int, 3>{}, inv_gamma); return true;
    case OpCode::LogNormalLpdf: fn(std::integral_constant<int, 3>{}, lognormal); return true;
    case OpCode::BetaLpdf: fn(std::integral_constant<int, 3>{}, beta_); return true;
    case OpCode::UniformLpdf: fn(std::integral_constant<int, 3>{}, uniform); return true;
    case OpCode::BernoulliLogitLpmf: fn(std::integral_constant<int, 2>{}, bernoulli_logit); return true;
    case OpCode::BinomialLogitLpmf: fn(std::integral_constant<int, 3>{}, binomial_logit); return true;
    case OpCode::PoissonLogLpmf: fn(std::integral_constant<int, 2>{}, poisson_log); return true;
    case OpCode::NegBinomialLogLpmf: fn(std::integral_constant<int, 3>{}, neg_binomial_log); return true;
    default: return false;
  }
}

// The same table dispatched inside, one element at a time (device kernels): log p and partials d of
// the density `code` at p; NaN for a code that is not univariate (ir::univariate_arity: its inputs).
BRR_HD inline double univariate_lpdf(OpCode code, const double* p, double* d) {
  switch (code) {
    case OpCode::NormalLpdf: return normal(p, d);
    case OpCode::StudentTLpdf: return student_t(p, d);
    case OpCode::CauchyLpdf: return cauchy(p, d);
    case OpCode::LaplaceLpdf: return laplace(p, d);
    case OpCode::ExponentialLpdf: return exponential(p, d);
    case OpCode::GammaLpdf: return gamma_(p, d);
    case OpCode::InvGammaLpdf: return inv_gamma(p, d);
    case OpCode::LogNormalLpdf: return lognormal(p, d);
    case OpCode::BetaLpdf: return beta_(p, d);
    case OpCode::UniformLpdf: return uniform(p, d);
    case OpCode::BernoulliLogitLpmf: return bernoulli_logit(p, d);
    case OpCode::BinomialLogitLpmf: return binomial_logit(p, d);
    case OpCode::PoissonLogLpmf: return poisson_log(p, d);
    case OpCode::NegBinomialLogLpmf: return neg_binomial_log(p, d);
    default: return NAN;
  }
}

}  // namespace brr::ad::terms
