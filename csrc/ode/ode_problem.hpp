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
  // step attempts, accepted and rejected, between one output time and the next (Stan's max_num_steps):
  // a long solve over many outputs is not cut short, one output interval that needs more fails
  long max_steps = 100000;
};

// Why a solve stopped short: a step limit within an output interval, a step size below what the
// time's precision resolves, or a right-hand side that stayed not finite however small the step
enum class Status { Ok, MaxSteps, StepTooSmall, NotFinite };

// The solution at `times` (T values, increasing, times[0] >= t0): Y (T x n) and, when m > 0, S
// (T x n x m) from S(t0) = S0 (n x m). The local error test covers the sensitivities as well as the
// states (as Stan's coupled rk45 and CVODES with sensitivity error control do): where the states are
// small against atol, state-only control let the steps grow until the solution, and a likelihood of
// its logarithm, were noise of the parameters, and a sampler's step size collapsed there. The
// sensitivities are the exact derivatives of the discrete solution for its step sequence. On failure
// the outputs not reached are NaN.
Status rk45(const Problem& pb, double t0, const double* y0, const double* S0, const double* times, std::size_t T,
            const Options& opt, double* Y, double* S);
Status bdf(const Problem& pb, double t0, const double* y0, const double* S0, const double* times, std::size_t T,
           const Options& opt, double* Y, double* S);

}  // namespace brr::ode
