// Variable-order (1-5) backward differentiation formulas for stiff systems: the quasi-constant step
// NDF scheme of Shampine & Reichelt (the MATLAB ODE suite), step and order control as in
// scipy.integrate's BDF. Sensitivities are solved once the states' Newton iteration has converged,
// from the differentiated corrector equation, (I - c J_y) dS = c (J_y S_pred + J_p) - psi_S, with J at
// the new point (the staggered direct method): the exact derivative of the discrete solution. The
// error test and the order choice read states and sensitivities (CVODES's sensitivity error control;
// ode_problem.hpp says why), so a step whose sensitivities are off is rejected too.
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "ode/dense_lu.hpp"
#include "ode/ode_problem.hpp"
#include "ode/step_control.hpp"

namespace brr::ode {

namespace {

constexpr int kMaxOrder = 5;
constexpr int kNewtonMaxIter = 4;
constexpr double kMinFactor = 0.2, kMaxFactor = 10;
constexpr double kKappa[kMaxOrder + 1] = {0, -0.1850, -1.0 / 9, -0.0823, -0.0415, 0};

struct Coefficients {
  std::array<double, kMaxOrder + 1> gamma{}, alpha{}, error_const{};
  Coefficients() {
    for (int k = 1; k <= kMaxOrder; ++k) gamma[k] = gamma[k - 1] + 1.0 / k;
    for (int k = 0; k <= kMaxOrder; ++k) {
      alpha[k] = (1 - kKappa[k]) * gamma[k];
      error_const[k] = kKappa[k] * gamma[k] + 1.0 / (k + 1);
    }
  }
};

// The differences array D ((kMaxOrder + 3) rows of N) rescaled for a step `factor` times the old one.
void change_D(std::vector<std::vector<double>>& D, int order, double factor) {
  auto R_of = [order](double f) {
    std::vector<double> R((order + 1) * (order + 1), 1.0);  // cumulative product down the rows
    for (int i = 1; i <= order; ++i)
      for (int j = 0; j <= order; ++j)
        R[i * (order + 1) + j] = R[(i - 1) * (order + 1) + j] * (j == 0 ? 0.0 : (i - 1 - f * j) / i);
    return R;
  };
  const std::vector<double> R = R_of(factor), U = R_of(1.0);
  const int k = order + 1;
  std::vector<double> RU(k * k, 0.0);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j)
      for (int l = 0; l < k; ++l) RU[i * k + j] += R[i * k + l] * U[l * k + j];
  const std::size_t N = D[0].size();
  std::vector<double> col(k);
  for (std::size_t c = 0; c < N; ++c) {
    for (int i = 0; i < k; ++i) {
      double s = 0.0;
      for (int l = 0; l < k; ++l) s += RU[l * k + i] * D[l][c];  // (RU^T D)[i]
      col[i] = s;
    }
    for (int i = 0; i < k; ++i) D[i][c] = col[i];
  }
}

}  // namespace

Status bdf(const Problem& pb, double t0, const double* y0, const double* S0, const double* times, std::size_t T,
           const Options& opt, double* Y, double* S) {
  static const Coefficients co;
  const std::size_t n = pb.n, m = pb.m, N = n + n * m;
  const Outputs out{n, m, T, Y, S};
  const std::vector<double> z0 = out.start(y0, S0);
  std::size_t next = 0;
  while (next < T && times[next] == t0) out.emit(next++, z0.data());
  if (next == T) return Status::Ok;
  const double t_end = times[T - 1];
  const double eps = std::numeric_limits<double>::epsilon();
  const double newton_tol = std::max(10 * eps / opt.rtol, std::min(0.03, std::sqrt(opt.rtol)));

  std::vector<double> f(n), J(n * n), Jp(n * m), Jy_new(n * n), Jp_new(n * m), FS(n * m), M(n * n);
  std::vector<double> y_predict(n), psi(n), scale(n), y(n), d(n), dy(n), dfull(N), zs(N), f0(N);
  std::vector<double> scale_all(N), err_all(N);  // the error test's, over states and sensitivities
  pb.eval(t0, y0, f.data(), J.data(), Jp.data());
  if (m) sens_rhs(n, m, J.data(), S0, Jp.data(), FS.data());
  std::copy(f.begin(), f.end(), f0.begin());
  std::copy(FS.begin(), FS.end(), f0.begin() + n);
  if (!all_finite(f0.data(), N) || !all_finite(J.data(), n * n)) return out.fail_from(next, Status::NotFinite);
  Augmented F(pb);
  double h_abs = initial_step(F, t0, z0.data(), f0.data(), t_end, 1, opt);
  std::vector<std::vector<double>> D(kMaxOrder + 3, std::vector<double>(N, 0.0));
  D[0] = z0;
  for (std::size_t i = 0; i < N; ++i) D[1][i] = f0[i] * h_abs;
  int order = 1, n_equal_steps = 0;
  DenseLu lu, lu_sens;
  bool lu_valid = false;
  double t = t0;
  long attempts = 0;        // since the last output time passed
  bool not_finite = false;  // the last Newton failure met a right-hand side that was not finite

  auto newton = [&](double t_new, double c, int& n_iter) {
    std::fill(d.begin(), d.end(), 0.0);
    y = y_predict;
    double dy_norm_old = -1;
    bool converged = false;
    int k = 0;
    for (; k < kNewtonMaxIter; ++k) {
      pb.eval(t_new, y.data(), f.data(), nullptr, nullptr);
      bool finite = true;
      for (double v : f) finite &= std::isfinite(v);
      not_finite = !finite;
      if (!finite) break;
      for (std::size_t i = 0; i < n; ++i) dy[i] = c * f[i] - psi[i] - d[i];
      lu.solve(dy.data());
      const double dy_norm = rms(dy.data(), scale.data(), n);
      const double rate = dy_norm_old < 0 ? -1 : dy_norm / dy_norm_old;
      if (rate >= 0 && (rate >= 1 || std::pow(rate, kNewtonMaxIter - k) / (1 - rate) * dy_norm > newton_tol)) break;
      for (std::size_t i = 0; i < n; ++i) {
        y[i] += dy[i];
        d[i] += dy[i];
      }
      if (dy_norm == 0 || (rate >= 0 && rate / (1 - rate) * dy_norm < newton_tol)) {
        converged = true;
        break;
      }
      dy_norm_old = dy_norm;
    }
    n_iter = std::min(k + 1, kNewtonMaxIter);
    return converged;
  };
  auto factor_newton = [&](const double* Jm, double c, DenseLu& out) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) M[i * n + j] = (i == j ? 1.0 : 0.0) - c * Jm[i * n + j];
    return out.factor(M.data(), n);
  };

  while (next < T) {
    const double hmin = min_step(t);
    if (h_abs < hmin) {
      change_D(D, order, hmin / h_abs);
      h_abs = hmin;
      n_equal_steps = 0;
    }
    bool current_jac = false, accepted = false;
    double t_new = t, c = 0, safety = 0, error_norm = 0;
    while (!accepted) {
      if (h_abs < hmin) return out.fail_from(next, not_finite ? Status::NotFinite : Status::StepTooSmall);
      if (++attempts > opt.max_steps) return out.fail_from(next, Status::MaxSteps);
      t_new = t + h_abs;
      if (t_new > t_end) {
        t_new = t_end;
        change_D(D, order, std::abs(t_new - t) / h_abs);
        n_equal_steps = 0;
        lu_valid = false;
      }
      const double h = t_new - t;
      h_abs = std::abs(h);
      for (std::size_t i = 0; i < n; ++i) {
        double s = 0.0, p = 0.0;
        for (int j = 0; j <= order; ++j) s += D[j][i];
        for (int j = 1; j <= order; ++j) p += D[j][i] * co.gamma[j];
        y_predict[i] = s;
        psi[i] = p / co.alpha[order];
        scale[i] = opt.atol + opt.rtol * std::abs(s);
      }
      c = h / co.alpha[order];
      bool converged = false;
      int n_iter = 0;
      while (!converged) {
        if (!lu_valid) lu_valid = factor_newton(J.data(), c, lu);
        converged = lu_valid && newton(t_new, c, n_iter);
        if (!converged) {
          if (current_jac) break;
          pb.eval(t_new, y_predict.data(), f.data(), J.data(), Jp.data());
          lu_valid = false;
          current_jac = true;
        }
      }
      if (!converged) {
        h_abs *= 0.5;
        change_D(D, order, 0.5);
        n_equal_steps = 0;
        lu_valid = false;
        continue;
      }
      not_finite = false;
      safety = 0.9 * (2 * kNewtonMaxIter + 1) / (2 * kNewtonMaxIter + n_iter);
      for (std::size_t i = 0; i < n; ++i) dfull[i] = d[i];
      if (m) {  // sensitivity corrector at the new point
        pb.eval(t_new, y.data(), f.data(), Jy_new.data(), Jp_new.data());
        if (!factor_newton(Jy_new.data(), c, lu_sens)) return out.fail_from(next, Status::StepTooSmall);
        std::vector<double>& Sp = zs;  // predicted S, then the right-hand side
        for (std::size_t i = 0; i < n * m; ++i) {
          double s = 0.0;
          for (int j = 0; j <= order; ++j) s += D[j][n + i];
          Sp[i] = s;
        }
        sens_rhs(n, m, Jy_new.data(), Sp.data(), Jp_new.data(), FS.data());
        for (std::size_t i = 0; i < n * m; ++i) {
          double p = 0.0;
          for (int j = 1; j <= order; ++j) p += D[j][n + i] * co.gamma[j];
          dfull[n + i] = c * FS[i] - p / co.alpha[order];
        }
        for (std::size_t col = 0; col < m; ++col) lu_sens.solve(dfull.data() + n + col, m);
        for (std::size_t i = 0; i < n * m; ++i) scale_all[n + i] = opt.atol + opt.rtol * std::abs(Sp[i] + dfull[n + i]);
      }
      for (std::size_t i = 0; i < n; ++i) scale_all[i] = opt.atol + opt.rtol * std::abs(y[i]);
      for (std::size_t i = 0; i < N; ++i) err_all[i] = co.error_const[order] * dfull[i];
      error_norm = rms(err_all.data(), scale_all.data(), N);
      if (!std::isfinite(error_norm)) error_norm = HUGE_VAL;
      if (error_norm > 1) {
        const double factor = std::max(kMinFactor, safety * std::pow(error_norm, -1.0 / (order + 1)));
        h_abs *= factor;
        change_D(D, order, factor);
        n_equal_steps = 0;
      } else {
        accepted = true;
      }
    }
    ++n_equal_steps;
    t = t_new;
    for (std::size_t i = 0; i < N; ++i) {
      D[order + 2][i] = dfull[i] - D[order + 1][i];
      D[order + 1][i] = dfull[i];
    }
    for (int j = order; j >= 0; --j)
      for (std::size_t i = 0; i < N; ++i) D[j][i] += D[j + 1][i];

    if (n_equal_steps >= order + 1) {  // try orders order-1, order, order+1
      auto norm_of = [&](int row, int k) {
        for (std::size_t i = 0; i < N; ++i) err_all[i] = co.error_const[k] * D[row][i];
        return rms(err_all.data(), scale_all.data(), N);
      };
      const double inf = HUGE_VAL;
      const double norms[3] = {order > 1 ? norm_of(order, order - 1) : inf, error_norm,
                               order < kMaxOrder ? norm_of(order + 2, order + 1) : inf};
      int best = 0;
      double factors[3];
      for (int i = 0; i < 3; ++i) {
        factors[i] = std::pow(norms[i], -1.0 / (order + i));
        if (factors[i] > factors[best]) best = i;
      }
      order += best - 1;
      const double factor = std::min(kMaxFactor, safety * factors[best]);
      h_abs *= factor;
      change_D(D, order, factor);
      n_equal_steps = 0;
      lu_valid = false;
    }
    // outputs inside (previous t, t]: the interpolating polynomial through the differences
    while (next < T && times[next] <= t) {
      attempts = 0;
      if (times[next] == t) {
        out.emit(next++, D[0].data());
        continue;
      }
      double p = 1.0;
      zs.assign(D[0].begin(), D[0].end());
      for (int j = 0; j < order; ++j) {
        p *= (times[next] - (t - h_abs * j)) / (h_abs * (1 + j));
        for (std::size_t i = 0; i < N; ++i) zs[i] += D[j + 1][i] * p;
      }
      out.emit(next++, zs.data());
    }
  }
  return Status::Ok;
}

}  // namespace brr::ode
