// OrderedLogisticLpmf and OrderedProbitLpmf: category y in 0..K-1 (data, checked in Python; a category
// out of range gives -inf, never an index out of range) of a latent eta cut at K-1 increasing cutpoints.
// Inputs: y (b), eta (b), cutpoints (K-1, shared by every row, or b*(K-1), one set per row), optionally
// row weights (b, constant: merged rows' counts); ip = (b, K, cutpoint stride 0 or K-1).
// One row of one lane per item through chain_sum; eta's and per-row cutpoints' partials are added going
// forward. Shared cutpoints' partials: on the CPU each row adds its two in row order (the lane's one chain
// of adds); on the device, whose rows run at once, each row writes them to work buffers and the rows are
// summed by category (group_sums, over the row lists row_groups() has the device build once).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "common/hd.hpp"
#include "common/scalar_math.hpp"
#include "common/view.hpp"
#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

namespace ordinal {

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

}  // namespace ordinal

// row r of lane b: its log density, eta's partial, and the cutpoints' partials (added to cut_a, per lane,
// or with shared cutpoints on the device written to d_lo, d_hi for the per-category sums). One: a single
// lane (B = 1, eta and the cutpoints contiguous), whose addresses the compiler then sees (5% on the
// scalar executor's kernel)
template <bool Probit, bool One>
struct OrdinalRow {
  const double *y, *w;  // w: row weights, or nullptr
  LaneArg eta, cut;
  double *eta_a, *cut_a, *d_lo, *d_hi;  // nullptr where not needed
  std::size_t K, stride, B;
  BRR_HD double in(const LaneArg& a, std::size_t i, std::size_t b) const { return One ? a.p[i] : a.at(i, b); }
  BRR_HD std::size_t at(std::size_t i, std::size_t b) const { return One ? i : i * B + b; }
  BRR_HD double operator()(std::size_t r, std::size_t b) const {
    const double yr = y[r];
    if (!(yr >= 0 && yr < static_cast<double>(K))) {
      if (d_lo) d_lo[at(r, b)] = d_hi[at(r, b)] = 0.0;
      return -HUGE_VAL;
    }
    const std::size_t c = static_cast<std::size_t>(yr), base = r * stride;
    const double lo = c > 0 ? in(cut, base + c - 1, b) : 0.0, hi = c < K - 1 ? in(cut, base + c, b) : 0.0;
    const ordinal::RowLp p = ordinal::row_lp(Probit, in(eta, r, b), lo, hi, c, K);
    const double wr = w ? w[r] : 1.0;
    if (eta_a) eta_a[at(r, b)] -= wr * (p.d_lo + p.d_hi);
    if (d_lo) {
      d_lo[at(r, b)] = wr * p.d_lo;
      d_hi[at(r, b)] = wr * p.d_hi;
    } else if (cut_a) {
      if (c > 0) cut_a[at(base + c - 1, b)] += wr * p.d_lo;
      if (c < K - 1) cut_a[at(base + c, b)] += wr * p.d_hi;
    }
    return wr * p.lp;
  }
};

// shared cutpoint j's adjoint: d_lo summed over the rows of category j + 1 plus d_hi over those of category j
struct SharedCutpoints {
  const double *lo, *hi;  // per-category sums (K + 1 categories, the last the out-of-range rows), per lane
  double* cut_a;
  std::size_t B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t k = first; k < first + count; ++k) cut_a[k] += lo[k + B] + hi[k];
  }
};

template <bool Probit>
struct OrdinalLpmf {
  static void check_shape(const ShapeCheck& c) {
    const Op& op = c.op;
    c.pos_ip(2);
    const std::size_t b = static_cast<std::size_t>(op.ip[0]), K = static_cast<std::size_t>(op.ip[1]);
    if (K < 2) fail("density ", c.code(), ": needs at least 2 categories, got ", K);
    if (op.ip.size() < 3 || (op.ip[2] != 0 && static_cast<std::size_t>(op.ip[2]) != K - 1))
      fail("density ", c.code(), ": cutpoint stride must be 0 (shared) or K-1 = ", K - 1);
    c.eq(c.in(0), b, "categories");
    c.eq(c.in(1), b, "eta");
    c.eq(c.in(2), op.ip[2] == 0 ? K - 1 : b * (K - 1), "cutpoints");
    if (op.in.size() == 4) {
      c.eq(c.in(3), b, "row weights");
      if (!c.sv.is_const(op.in[3])) fail("density ", c.code(), ": row weights must be a constant");
    }
  }
  static bool on_lanes(const Op& op, const Program& p) { return !varies(op, p, 0); }  // categories are data
  // The device's row lists: rows by category (out-of-range rows in a group of their own, K), when the
  // cutpoints are shared; 0 groups otherwise.
  static std::size_t row_groups(const Op& op, const Program& p, std::vector<int32_t>& key) {
    if (op.ip[2] != 0) return 0;
    const double* y = p.constants().data() + p.slot(op.in[0]).offset;
    const std::size_t nb = static_cast<std::size_t>(op.ip[0]), K = static_cast<std::size_t>(op.ip[1]);
    key.resize(nb);
    for (std::size_t r = 0; r < nb; ++r)
      key[r] = y[r] >= 0 && y[r] < static_cast<double>(K) ? static_cast<int32_t>(y[r]) : static_cast<int32_t>(K);
    return K + 1;
  }
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t nb = static_cast<std::size_t>(op.ip[0]), K = static_cast<std::size_t>(op.ip[1]),
                      stride = static_cast<std::size_t>(op.ip[2]);
    double* cut_a = x.a(op.in[2]);
    // the device's per-row partials go to its work buffers (each the largest slot's size: b or more)
    const bool grouped = !X::kRowsInOrder && stride == 0 && cut_a;
    double* d_lo = grouped ? x.work(nb, 0) : nullptr;
    double* d_hi = grouped ? x.work(nb, 1) : nullptr;
    auto row = [&](auto one) {
      return OrdinalRow<Probit, decltype(one)::value>{x.v(op.in[0]), op.in.size() > 3 ? x.v(op.in[3]) : nullptr,
                                                      lane_arg(x, op.in[1], nb), lane_arg(x, op.in[2], x.n(op.in[2])),
                                                      x.a(op.in[1]), cut_a, d_lo, d_hi, K, stride, x.lanes()};
    };
    if (x.lanes() == 1) x.chain_sum(nb, row(std::true_type{}), x.target());
    else x.chain_sum(nb, row(std::false_type{}), x.target());
    if (!grouped) return;
    if constexpr (!X::kRowsInOrder) {
      double* lo = x.group_sums(op, d_lo, 0);
      double* hi = x.group_sums(op, d_hi, 1);
      x.items((K - 1) * x.lanes(), SharedCutpoints{lo, hi, cut_a, x.lanes()});
    }
  }
  template <class X>
  static void backward(const Op&, X&) {}  // its partials were added going forward
};

struct OrderedLogisticLpmf : OrdinalLpmf<false> {};
struct OrderedProbitLpmf : OrdinalLpmf<true> {};

}  // namespace brr::ops
