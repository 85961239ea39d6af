// Fused univariate log-densities over broadcast inputs: one pass computes the value and every partial.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ad/scalar_math.hpp"
#include "common/strides.hpp"
#include "ad/kernels.hpp"
#include "density/density_kernels.hpp"

namespace brr::ad {

namespace {

constexpr double NEG_INF = -HUGE_VAL;

// Runs f(args, partials) -> log p over n elements; inputs of size 1 broadcast.
// Partials go straight to the input adjoints: a density's output adjoint is always 1.
template <int N, class F>
void run(const Op& op, Ctx& c, F f) {
  const double* v[N];
  double* a[N];
  std::size_t st[N];
  std::size_t n = 1;
  for (int k = 0; k < N; ++k) n = std::max(n, c.n(op.in[k]));
  bool any_grad = false;
  for (int k = 0; k < N; ++k) {
    v[k] = c.v(op.in[k]);
    a[k] = c.a(op.in[k]);
    st[k] = c.n(op.in[k]) == n ? 1 : 0;
    any_grad |= a[k] != nullptr;
  }
  double lp = op.dp.empty() ? 0.0 : op.dp[0];  // data-only constant precomputed at compile time
  double args[N], d[N] = {}, acc[N] = {};
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < N; ++k) args[k] = v[k][i * st[k]];
    lp += f(args, d);
    if (any_grad)
      for (int k = 0; k < N; ++k)
        if (a[k]) {
          if (st[k]) a[k][i] += d[k];
          else acc[k] += d[k];
        }
  }
  for (int k = 0; k < N; ++k)
    if (a[k] && !st[k]) a[k][0] += acc[k];
  c.target += lp;
}

double normal(const double* p, double* d) {
  const double x = p[0], mu = p[1], s = p[2];
  if (!(s > 0)) return NEG_INF;
  const double z = (x - mu) / s;
  d[0] = -z / s;
  d[1] = z / s;
  d[2] = (z * z - 1.0) / s;
  return -0.5 * z * z - std::log(s) - kLogSqrt2Pi;
}

double student_t(const double* p, double* d) {
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

double cauchy(const double* p, double* d) {
  const double x = p[0], mu = p[1], s = p[2];
  if (!(s > 0)) return NEG_INF;
  const double z = (x - mu) / s, dz = -2.0 * z / (1.0 + z * z);
  d[0] = dz / s;
  d[1] = -dz / s;
  d[2] = -1.0 / s - dz * z / s;
  return -kLogPi - std::log(s) - std::log1p(z * z);
}

double laplace(const double* p, double* d) {
  const double x = p[0], mu = p[1], b = p[2];
  if (!(b > 0)) return NEG_INF;
  const double r = x - mu, sg = r > 0 ? 1.0 : (r < 0 ? -1.0 : 0.0);
  d[0] = -sg / b;
  d[1] = sg / b;
  d[2] = -1.0 / b + std::fabs(r) / (b * b);
  return -kLog2 - std::log(b) - std::fabs(r) / b;
}

double exponential(const double* p, double* d) {
  const double x = p[0], lam = p[1];
  if (!(lam > 0) || x < 0) return NEG_INF;
  d[0] = -lam;
  d[1] = 1.0 / lam - x;
  return std::log(lam) - lam * x;
}

double gamma_(const double* p, double* d) {
  const double x = p[0], al = p[1], be = p[2];
  if (!(al > 0) || !(be > 0) || !(x > 0)) return NEG_INF;
  const double lx = std::log(x), lb = std::log(be);
  d[0] = (al - 1.0) / x - be;
  d[1] = lb - digamma(al) + lx;
  d[2] = al / be - x;
  return al * lb - std::lgamma(al) + (al - 1.0) * lx - be * x;
}

double inv_gamma(const double* p, double* d) {
  const double x = p[0], al = p[1], be = p[2];
  if (!(al > 0) || !(be > 0) || !(x > 0)) return NEG_INF;
  const double lx = std::log(x), lb = std::log(be);
  d[0] = -(al + 1.0) / x + be / (x * x);
  d[1] = lb - digamma(al) - lx;
  d[2] = al / be - 1.0 / x;
  return al * lb - std::lgamma(al) - (al + 1.0) * lx - be / x;
}

double lognormal(const double* p, double* d) {
  const double x = p[0], mu = p[1], s = p[2];
  if (!(s > 0) || !(x > 0)) return NEG_INF;
  const double lx = std::log(x), z = (lx - mu) / s;
  d[0] = -1.0 / x - z / (s * x);
  d[1] = z / s;
  d[2] = (z * z - 1.0) / s;
  return -lx - std::log(s) - kLogSqrt2Pi - 0.5 * z * z;
}

double beta_(const double* p, double* d) {
  const double x = p[0], a = p[1], b = p[2];
  if (!(a > 0) || !(b > 0) || !(x > 0) || !(x < 1)) return NEG_INF;
  const double lx = std::log(x), l1x = std::log1p(-x), dab = digamma(a + b);
  d[0] = (a - 1.0) / x - (b - 1.0) / (1.0 - x);
  d[1] = dab - digamma(a) + lx;
  d[2] = dab - digamma(b) + l1x;
  return std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + (a - 1.0) * lx + (b - 1.0) * l1x;
}

double uniform(const double* p, double* d) {
  const double x = p[0], lo = p[1], hi = p[2];
  if (!(lo < hi) || x < lo || x > hi) return NEG_INF;
  d[0] = 0.0;
  d[1] = 1.0 / (hi - lo);
  d[2] = -1.0 / (hi - lo);
  return -std::log(hi - lo);
}

double bernoulli_logit(const double* p, double* d) {
  const double y = p[0], eta = p[1];
  double sp, sg;
  softplus_and_sigmoid(eta, sp, sg);
  d[0] = 0.0;
  d[1] = y - sg;
  return y * eta - sp;
}

double binomial_logit(const double* p, double* d) {  // log C(n, y) is in the op's constant
  const double y = p[0], n = p[1], eta = p[2];
  double sp, sg;
  softplus_and_sigmoid(eta, sp, sg);
  d[0] = d[1] = 0.0;
  d[2] = y - n * sg;
  return y * eta - n * sp;
}

double poisson_log(const double* p, double* d) {  // -log y! is in the op's constant
  const double y = p[0], eta = p[1], mu = std::exp(eta);
  d[0] = 0.0;
  d[1] = y - mu;
  return y * eta - mu;
}

double neg_binomial_log(const double* p, double* d) {  // -log y! is in the op's constant
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

// Normal with one scale for all elements (the usual regression likelihood): log(sigma) and 1/sigma
// once, the sigma partial as one sum.
bool normal_scalar_sigma(const Op& op, Ctx& c) {
  if (c.n(op.in[2]) != 1) return false;
  const std::size_t n = std::max(c.n(op.in[0]), c.n(op.in[1]));
  const double* x = c.v(op.in[0]);
  const double* mu = c.v(op.in[1]);
  const std::size_t sx = c.n(op.in[0]) == n ? 1 : 0, sm = c.n(op.in[1]) == n ? 1 : 0;
  double* xa = c.a(op.in[0]);
  double* ma = c.a(op.in[1]);
  double* sa = c.a(op.in[2]);
  const double s = c.v(op.in[2])[0];
  if (!(s > 0)) {
    c.target = NEG_INF;
    return true;
  }
  const double inv = 1.0 / s;
  double ss = 0.0, xacc = 0.0, macc = 0.0;
  with_strides(sx, sm, [&](auto SX, auto SM) {
    // four lanes (rows i mod 4) for each running sum: one accumulator would wait on the add latency
    double s4[4] = {}, x4[4] = {}, m4[4] = {};
    auto row = [&](std::size_t i, int l) {
      const double z = (x[i * SX] - mu[i * SM]) * inv;
      s4[l] += z * z;
      const double dz = z * inv;
      if (xa) {
        if constexpr (SX == 1) xa[i] -= dz;
        else x4[l] -= dz;
      }
      if (ma) {
        if constexpr (SM == 1) ma[i] += dz;
        else m4[l] += dz;
      }
    };
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      row(i, 0);
      row(i + 1, 1);
      row(i + 2, 2);
      row(i + 3, 3);
    }
    for (; i < n; ++i) row(i, 0);
    ss = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    xacc = (x4[0] + x4[1]) + (x4[2] + x4[3]);
    macc = (m4[0] + m4[1]) + (m4[2] + m4[3]);
  });
  if (xa && !sx) xa[0] += xacc;
  if (ma && !sm) ma[0] += macc;
  const double nn = static_cast<double>(n);
  if (sa) sa[0] += (ss - nn) * inv;
  c.target += (op.dp.empty() ? 0.0 : op.dp[0]) - 0.5 * ss - nn * (std::log(s) + kLogSqrt2Pi);
  return true;
}

// PointwiseLpdf: the same per-element functions, each term written to out[i] (forward) or its
// partials times out's adjoint added to the inputs' adjoints (backward, recomputed: no tape).
template <int N, class F>
void pointwise(const Op& op, Ctx& c, F f, bool backward) {
  const std::size_t n = c.n(op.out);
  const double* v[N];
  double* a[N];
  std::size_t st[N];
  for (int k = 0; k < N; ++k) {
    v[k] = c.v(op.in[k]);
    a[k] = backward ? c.a(op.in[k]) : nullptr;
    st[k] = c.n(op.in[k]) == n ? 1 : 0;
  }
  double* out = c.v(op.out);
  const double* g = backward ? c.a(op.out) : nullptr;
  const bool with_terms = op.in.size() == N + 1;  // data-only terms of the density, per element
  const double* terms = with_terms ? c.v(op.in[N]) : nullptr;
  const std::size_t tst = with_terms && c.n(op.in[N]) == n ? 1 : 0;
  double args[N], d[N] = {};
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < N; ++k) args[k] = v[k][i * st[k]];
    const double lp = f(args, d);
    if (!backward) {
      out[i] = terms ? lp + terms[i * tst] : lp;
      continue;
    }
    if (!std::isfinite(lp)) continue;  // outside the support: no partials to pass on
    for (int k = 0; k < N; ++k)
      if (a[k]) a[k][i * st[k]] += g[i] * d[k];
  }
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

void run_pointwise(const Op& op, Ctx& c, bool backward) {
  with_kernel(static_cast<OpCode>(op.ip[0]), [&](auto arity, auto f) {
    pointwise<decltype(arity)::value>(op, c, f, backward);
  });
}

}  // namespace

int pointwise_arity(OpCode density) {
  int n = 0;
  with_kernel(density, [&](auto arity, auto) { n = decltype(arity)::value; });
  return n;
}

void pointwise_forward(const Op& op, Ctx& c) { run_pointwise(op, c, false); }
void pointwise_backward(const Op& op, Ctx& c) { run_pointwise(op, c, true); }

bool univariate_density(const Op& op, Ctx& c) {
  // the one code -> kernel table (with_kernel) serves these fused sums and PointwiseLpdf alike
  if (op.code == OpCode::NormalLpdf && normal_scalar_sigma(op, c)) return true;
  return with_kernel(op.code, [&](auto arity, auto f) { run<decltype(arity)::value>(op, c, f); });
}

}  // namespace brr::ad
