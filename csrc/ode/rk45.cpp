// Explicit Runge-Kutta 5(4) (Dormand & Prince) with scipy.integrate's step control and dense output.
// States and sensitivities advance as one augmented vector z = [y, S]: the sensitivity stages are
// the forward-mode derivative of the state stages, so S is the exact derivative of the discrete
// solution; the error estimate reads the whole vector (ode_problem.hpp says why).
#include <cmath>
#include <vector>

#include "ode/ode_problem.hpp"
#include "ode/step_control.hpp"

namespace brr::ode {

namespace {

constexpr int kStages = 6;
constexpr double C[kStages] = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1};
constexpr double A[kStages][5] = {{0, 0, 0, 0, 0},
                                  {1.0 / 5, 0, 0, 0, 0},
                                  {3.0 / 40, 9.0 / 40, 0, 0, 0},
                                  {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0},
                                  {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0},
                                  {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656}};
constexpr double B[kStages] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84};
constexpr double E[kStages + 1] = {-71.0 / 57600, 0, 71.0 / 16695, -71.0 / 1920, 17253.0 / 339200, -22.0 / 525,
                                   1.0 / 40};
// dense output: y(t_old + x h) = y_old + h sum_j K_j sum_k P[j][k] x^(k+1)  (Shampine's c_6 choice)
constexpr double P[kStages + 1][4] = {
    {1, -8048581381.0 / 2820520608, 8663915743.0 / 2820520608, -12715105075.0 / 11282082432},
    {0, 0, 0, 0},
    {0, 131558114200.0 / 32700410799, -68118460800.0 / 10900136933, 87487479700.0 / 32700410799},
    {0, -1754552775.0 / 470086768, 14199869525.0 / 1410260304, -10690763975.0 / 1880347072},
    {0, 127303824393.0 / 49829197408, -318862633887.0 / 49829197408, 701980252875.0 / 199316789632},
    {0, -282668133.0 / 205662961, 2019193451.0 / 616988883, -1453857185.0 / 822651844},
    {0, 40617522.0 / 29380423, -110615467.0 / 29380423, 69997945.0 / 29380423}};
constexpr double kSafety = 0.9, kMinFactor = 0.2, kMaxFactor = 10, kErrorExponent = -1.0 / 5;

}  // namespace

Status rk45(const Problem& pb, double t0, const double* y0, const double* S0, const double* times, std::size_t T,
            const Options& opt, double* Y, double* S) {
  const std::size_t n = pb.n, m = pb.m;
  Augmented F(pb);
  const std::size_t N = F.size();
  const Outputs out{n, m, T, Y, S};
  std::vector<double> z = out.start(y0, S0), z_new(N), stage(N), scale(N), err(N);
  std::vector<std::vector<double>> K(kStages + 1, std::vector<double>(N));
  std::size_t next = 0;
  while (next < T && times[next] == t0) out.emit(next++, z.data());
  if (next == T) return Status::Ok;
  const double t_end = times[T - 1];
  double t = t0;
  F(t, z.data(), K[0].data());
  if (!all_finite(K[0].data(), N)) return out.fail_from(next, Status::NotFinite);
  double h_abs = initial_step(F, t0, z.data(), K[0].data(), t_end, 4, opt);
  long attempts = 0;         // since the last output time passed
  bool not_finite = false;   // the last rejection's error was not finite (f not finite at a stage)
  while (next < T) {
    const double hmin = min_step(t);
    if (h_abs < hmin) h_abs = hmin;
    bool accepted = false, rejected = false;
    double h = 0, t_new = t;
    while (!accepted) {
      if (h_abs < hmin) return out.fail_from(next, not_finite ? Status::NotFinite : Status::StepTooSmall);
      if (++attempts > opt.max_steps) return out.fail_from(next, Status::MaxSteps);
      t_new = t + h_abs;
      if (t_new > t_end) t_new = t_end;
      h = t_new - t;
      h_abs = std::abs(h);
      for (int s = 1; s < kStages; ++s) {
        for (std::size_t i = 0; i < N; ++i) {
          double dz = 0.0;
          for (int j = 0; j < s; ++j) dz += A[s][j] * K[j][i];
          stage[i] = z[i] + h * dz;
        }
        F(t + C[s] * h, stage.data(), K[s].data());
      }
      for (std::size_t i = 0; i < N; ++i) {
        double dz = 0.0;
        for (int j = 0; j < kStages; ++j) dz += B[j] * K[j][i];
        z_new[i] = z[i] + h * dz;
      }
      F(t_new, z_new.data(), K[kStages].data());
      for (std::size_t i = 0; i < N; ++i) {
        scale[i] = opt.atol + std::max(std::abs(z[i]), std::abs(z_new[i])) * opt.rtol;
        double e = 0.0;
        for (int j = 0; j <= kStages; ++j) e += E[j] * K[j][i];
        err[i] = h * e;
      }
      const double error_norm = rms(err.data(), scale.data(), N);
      not_finite = !std::isfinite(error_norm);
      if (error_norm < 1) {
        double factor = error_norm == 0 ? kMaxFactor : std::min(kMaxFactor, kSafety * std::pow(error_norm, kErrorExponent));
        if (rejected) factor = std::min(1.0, factor);
        h_abs *= factor;
        accepted = true;
      } else {
        // a NaN error (f not finite at a stage) shrinks the step as much as allowed
        const double f = std::isfinite(error_norm) ? kSafety * std::pow(error_norm, kErrorExponent) : kMinFactor;
        h_abs *= std::max(kMinFactor, f);
        rejected = true;
      }
    }
    // outputs inside (t, t_new]: the step's dense output polynomial
    while (next < T && times[next] <= t_new) {
      const double x = (times[next] - t) / h;
      const double p[4] = {x, x * x, x * x * x, x * x * x * x};
      for (std::size_t i = 0; i < N; ++i) {
        double s = 0.0;
        for (int j = 0; j <= kStages; ++j)
          s += K[j][i] * (P[j][0] * p[0] + P[j][1] * p[1] + P[j][2] * p[2] + P[j][3] * p[3]);
        stage[i] = z[i] + h * s;
      }
      out.emit(next, times[next] == t_new ? z_new.data() : stage.data());
      ++next;
      attempts = 0;
    }
    t = t_new;
    z.swap(z_new);
    K[0].swap(K[kStages]);  // first same as last
  }
  return Status::Ok;
}

}  // namespace brr::ode
