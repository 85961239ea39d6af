// What the ODE solvers integrate: y' = f(t, y) with n states and, optionally, the forward
// sensitivities S = dy/dp (n x m) of m quantities, S' = J_y S + J_p. The solvers know nothing of
// programs or autodiff: the caller supplies f and its Jacobians.
#pragma once
#include <cstddef>
#include <functional>

namespace brr::ode {

struct Problem {
  std::size_t n = 0;  // states
  std::size_t m = 0;  // sensitivity columns; 0 solves the states alone
  // f (n) at (t, y); when Jy is non-null also Jy (n x n) and, when m > 0, Jp (n x m), row-major
  std::function<void(double t, const double* y, double* f, double* Jy, double* Jp)> eval;
};

struct Options {
  double rtol = 1e-6;
  double atol = 1e-6;
  long max_steps = 100000;  // step attempts, accepted and rejected
};

enum class Status { Ok, MaxSteps, StepTooSmall };

// The solution at `times` (T values, increasing, times[0] >= t0): Y (T x n) and, when m > 0, S
// (T x n x m) from S(t0) = S0 (n x m). The step sequence depends on the states only, so a solve with
// sensitivities returns the same Y as one without; the sensitivities are the exact derivatives of
// the discrete solution for that step sequence. On failure the outputs not reached are NaN.
Status rk45(const Problem& pb, double t0, const double* y0, const double* S0, const double* times, std::size_t T,
            const Options& opt, double* Y, double* S);
Status bdf(const Problem& pb, double t0, const double* y0, const double* S0, const double* times, std::size_t T,
           const Options& opt, double* Y, double* S);

}  // namespace brr::ode
