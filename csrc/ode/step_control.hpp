// Pieces both ODE solvers share: the RMS error norm, the initial step (Hairer, Norsett & Wanner,
// Solving ODEs I, II.4, as scipy.integrate's select_initial_step) and J_y S + J_p.
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

// order: of the error estimator (4 for RK45's embedded pair, 1 for BDF's start)
inline double initial_step(const Problem& pb, double t0, const double* y0, const double* f0, double t_end,
                           int order, const Options& opt) {
  const std::size_t n = pb.n;
  const double span = std::abs(t_end - t0);
  if (span == 0.0) return 0.0;
  std::vector<double> scale(n), y1(n), f1(n), df(n);
  for (std::size_t i = 0; i < n; ++i) scale[i] = opt.atol + std::abs(y0[i]) * opt.rtol;
  const double d0 = rms(y0, scale.data(), n), d1 = rms(f0, scale.data(), n);
  double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
  h0 = std::min(h0, span);
  for (std::size_t i = 0; i < n; ++i) y1[i] = y0[i] + h0 * f0[i];
  pb.eval(t0 + h0, y1.data(), f1.data(), nullptr, nullptr);
  for (std::size_t i = 0; i < n; ++i) df[i] = f1[i] - f0[i];
  const double d2 = rms(df.data(), scale.data(), n) / h0;
  const double h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? std::max(1e-6, h0 * 1e-3)
                                                  : std::pow(0.01 / std::max(d1, d2), 1.0 / (order + 1));
  return std::min({100 * h0, h1, span});
}

// out (n x m) = Jy (n x n) S (n x m) + Jp (n x m)
inline void sens_rhs(std::size_t n, std::size_t m, const double* Jy, const double* S, const double* Jp, double* out) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      double s = Jp[i * m + j];
      for (std::size_t k = 0; k < n; ++k) s += Jy[i * n + k] * S[k * m + j];
      out[i * m + j] = s;
    }
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
