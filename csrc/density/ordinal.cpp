// Ordered logistic and ordered probit likelihoods: category y in 0..K-1 of a latent eta cut at
// K-1 increasing cutpoints. Inputs: y (b, constant), eta (b), cutpoints (K-1, shared by every row,
// or b*(K-1), one set per row), optionally row weights (b, constant: merged rows' counts);
// ip = (b, K, cutpoint stride 0 or K-1).
#include <cmath>

#include "ad/kernels.hpp"
#include "ad/scalar_math.hpp"
#include "density/density_kernels.hpp"

namespace brr::ad {

namespace {

constexpr double kLn2 = 0.6931471805599453;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kLogSqrt2Pi = 0.9189385332046728;

// log(1 - exp(u)) for u < 0, accurate at both ends (Maechler 2012).
double log1m_exp(double u) { return u > -kLn2 ? std::log(-std::expm1(u)) : std::log1p(-std::exp(u)); }

double log_phi(double x) { return -0.5 * x * x - kLogSqrt2Pi; }  // log of the standard normal density

// log Phi(x): erfc where it does not underflow, the asymptotic series below -20 (relative error < 1e-12).
double log_Phi(double x) {
  if (x > -20.0) return std::log(0.5 * std::erfc(-x * kInvSqrt2));
  const double z = 1.0 / (x * x);
  const double series = 1.0 - z * (1.0 - 3.0 * z * (1.0 - 5.0 * z * (1.0 - 7.0 * z * (1.0 - 9.0 * z))));
  return log_phi(x) - std::log(-x) + std::log(series);
}

// One row's log probability and its derivatives with respect to the lower and upper cut arguments.
// Logistic: P = sigma(e - c_lo) - sigma(e - c_hi), with a = e - c_lo, b = e - c_hi.
struct RowLp {
  double lp, d_lo, d_hi;  // d lp / d c_lo, d lp / d c_hi (d lp / d eta = -(d_lo + d_hi))
};

RowLp logistic_row(double e, const double* cut, std::size_t k, std::size_t K) {
  if (k == 0) {  // P = 1 - sigma(e - c_0) = sigma(c_0 - e)
    const double u = cut[0] - e;
    return {log_inv_logit(u), 0.0, inv_logit(-u)};
  }
  if (k == K - 1) {  // P = sigma(e - c_{K-2})
    const double a = e - cut[K - 2];
    return {log_inv_logit(a), -inv_logit(-a), 0.0};
  }
  const double a = e - cut[k - 1], b = e - cut[k];
  if (!(a > b)) return {-HUGE_VAL, 0.0, 0.0};  // cutpoints out of order: no probability
  // sigma(a) - sigma(b) = sigma(a) sigma(-b) (1 - exp(b - a))
  const double lp = log_inv_logit(a) + log_inv_logit(-b) + log1m_exp(b - a);
  const double r = 1.0 / std::expm1(a - b);
  const double da = inv_logit(-a) + r, db = -inv_logit(b) - r;
  return {lp, -da, -db};
}

// Probit: P = Phi(c_hi - e) - Phi(c_lo - e).
RowLp probit_row(double e, const double* cut, std::size_t k, std::size_t K) {
  if (k == 0) {  // P = Phi(c_0 - e)
    const double u = cut[0] - e, lp = log_Phi(u);
    return {lp, 0.0, std::exp(log_phi(u) - lp)};
  }
  if (k == K - 1) {  // P = 1 - Phi(c - e) = Phi(e - c)
    const double l = e - cut[K - 2], lp = log_Phi(l);
    return {lp, -std::exp(log_phi(l) - lp), 0.0};
  }
  const double hi = cut[k] - e, lo = cut[k - 1] - e;
  if (!(hi > lo)) return {-HUGE_VAL, 0.0, 0.0};
  // in the upper tail use Phi(-lo) - Phi(-hi): the same difference without cancellation near 1
  const double lp = lo > 0 ? log_Phi(-lo) + log1m_exp(log_Phi(-hi) - log_Phi(-lo))
                           : log_Phi(hi) + log1m_exp(log_Phi(lo) - log_Phi(hi));
  return {lp, -std::exp(log_phi(lo) - lp), std::exp(log_phi(hi) - lp)};
}

template <class Row>
void ordered(const Op& op, Ctx& c, Row row) {
  const std::size_t b = op.ip[0], K = op.ip[1], stride = op.ip[2];
  const double* y = c.v(op.in[0]);
  const double* eta = c.v(op.in[1]);
  const double* cut = c.v(op.in[2]);
  double* ge = c.a(op.in[1]);
  double* gc = c.a(op.in[2]);
  const double* w = op.in.size() > 3 ? c.v(op.in[3]) : nullptr;
  double lp = 0.0;
  for (std::size_t r = 0; r < b; ++r) {
    const double yr = y[r];
    if (!(yr >= 0 && yr < static_cast<double>(K))) {  // checked in Python; never index out of range here
      c.target = -HUGE_VAL;
      return;
    }
    const std::size_t k = static_cast<std::size_t>(yr);
    const double* cr = cut + r * stride;
    const RowLp p = row(eta[r], cr, k, K);
    const double wr = w ? w[r] : 1.0;
    lp += wr * p.lp;
    if (ge) ge[r] -= wr * (p.d_lo + p.d_hi);
    if (gc) {
      double* g = gc + r * stride;
      if (k > 0) g[k - 1] += wr * p.d_lo;
      if (k < K - 1) g[k] += wr * p.d_hi;
    }
  }
  c.target += lp;
}

}  // namespace

bool ordinal_density(const Op& op, Ctx& c) {
  switch (op.code) {
    case OpCode::OrderedLogisticLpmf: ordered(op, c, logistic_row); return true;
    case OpCode::OrderedProbitLpmf: ordered(op, c, probit_row); return true;
    default: return false;
  }
}

}  // namespace brr::ad
