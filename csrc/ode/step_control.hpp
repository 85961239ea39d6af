// Pieces both ODE solvers share: the RMS error norm, the augmented right-hand side [f, J_y S + J_p],
// the initial step and where the outputs go.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ode/ode_problem.hpp"

namespace brr::ode {

inline double rms(const double* x, const double* scale, std::size_t n) {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += (x[i] / scale[i]) * (x[i] / scale[i]);
  return std::sqrt(s / static_cast<double>(n));
}

inline double min_step(double t) { return 10 * std::abs(std::nextafter(t, HUGE_VAL) - t); }

// out (n x m) = Jy (n x n) S (n x m) + Jp (n x m)
inline void sens_rhs(std::size_t n, std::size_t m, const double* Jy, const double* S, const double* Jp, double* out) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      double s = Jp[i * m + j];
      for (std::size_t k = 0; k < n; ++k) s += Jy[i * n + k] * S[k * m + j];
      out[i * m + j] = s;
    }
}

// z' at (t, z) for the augmented vector z = [y, S]: the state derivative and, with sensitivities,
// J_y S + J_p
struct Augmented {
  const Problem& pb;
  std::vector<double> Jy, Jp;
  explicit Augmented(const Problem& p) : pb(p), Jy(p.m ? p.n * p.n : 0), Jp(p.n * p.m) {}
  std::size_t size() const { return pb.n + pb.n * pb.m; }
  void operator()(double t, const double* z, double* dz) {
    if (!pb.m) return pb.eval(t, z, dz, nullptr, nullptr);
    pb.eval(t, z, dz, Jy.data(), Jp.data());
    sens_rhs(pb.n, pb.m, Jy.data(), z + pb.n, Jp.data(), dz + pb.n);
  }
};

// The first step for the augmented vector z0 with derivative f0 (order: of the error estimator, 4
// for RK45's embedded pair, 1 for BDF's start): Hairer, Norsett & Wanner, Solving ODEs I, II.4, as
// scipy.integrate's select_initial_step.
inline double initial_step(Augmented& F, double t0, const double* z0, const double* f0, double t_end, int order,
                           const Options& opt) {
  const std::size_t N = F.size();
  const double span = std::abs(t_end - t0);
  if (span == 0.0) return 0.0;
  std::vector<double> scale(N), z1(N), f1(N), df(N);
  for (std::size_t i = 0; i < N; ++i) scale[i] = opt.atol + std::abs(z0[i]) * opt.rtol;
  const double d0 = rms(z0, scale.data(), N), d1 = rms(f0, scale.data(), N);
  double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
  h0 = std::min(h0, span);
  for (std::size_t i = 0; i < N; ++i) z1[i] = z0[i] + h0 * f0[i];
  F(t0 + h0, z1.data(), f1.data());
  for (std::size_t i = 0; i < N; ++i) df[i] = f1[i] - f0[i];
  const double d2 = rms(df.data(), scale.data(), N) / h0;
  const double h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? std::max(1e-6, h0 * 1e-3)
                                                  : std::pow(0.01 / std::max(d1, d2), 1.0 / (order + 1));
  return std::min({100 * h0, h1, span});
}

inline bool all_finite(const double* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

inline void fill_nan(double* p, std::size_t count) {
  std::fill(p, p + count, std::numeric_limits<double>::quiet_NaN());
}

// Where a solver writes: the states Y (T x n) and sensitivities S (T x n x m) at the output times,
// from augmented vectors z = [y, S]; on failure everything not yet written becomes NaN.
struct Outputs {
  std::size_t n, m, T;
  double* Y;
  double* S;
  void emit(std::size_t k, const double* z) const {
    for (std::size_t i = 0; i < n; ++i) Y[k * n + i] = z[i];
    for (std::size_t i = 0; i < n * m; ++i) S[k * n * m + i] = z[n + i];
  }
  Status fail_from(std::size_t k, Status st) const {
    fill_nan(Y + k * n, (T - k) * n);
    if (m) fill_nan(S + k * n * m, (T - k) * n * m);
    return st;
  }
  // z0 = [y0, S0]
  std::vector<double> start(const double* y0, const double* S0) const {
    std::vector<double> z(n + n * m);
    for (std::size_t i = 0; i < n; ++i) z[i] = y0[i];
    for (std::size_t i = 0; i < n * m; ++i) z[n + i] = S0[i];
    return z;
  }
};

}  // namespace brr::ode
