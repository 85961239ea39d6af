// OdeSolve: y(t_k), k = 0..T-1, of y' = f(t, y, theta), y(t0) = y0, for a Function f of [t, y, theta].
// Forward solves (RK45 or BDF, csrc/ode/) and, when a gradient is wanted, the forward sensitivities
// S_k = dy(t_k)/d[y0, theta] with the Jacobians from reverse sweeps of f; they stay on the tape for
// backward, which contracts them with the output adjoint. The sensitivities are solved whether or not
// a gradient is wanted: the solver's error test reads them (ode_problem.hpp), so a value is the same
// with and without its gradient. A solve that stops short (max_steps within an output interval, a
// step too small, a right-hand side not finite) gives NaN outputs and names its cause in the
// workspace, so the sampler rejects the point as a divergence with that reason.
#include <algorithm>
#include <cstring>
#include <vector>

#include "ad/function.hpp"
#include "ad/kernels.hpp"
#include "ode/ode_problem.hpp"

namespace brr::ad {

void ode_forward(const Op& op, Ctx& c) {
  const std::size_t n = op.ip[1], p = op.ip[2], T = op.ip[3];
  const Function& fn = c.prog.function(static_cast<int>(op.ip[0]));
  Workspace& fw = c.ws.fn_ws[op.ip[0]];
  const std::size_t m = n + p, d = 1 + n + p;
  std::vector<double> x(d), Jfull(n * d);  // a few doubles per solve, not per step
  if (p) std::memcpy(x.data() + 1 + n, c.v(op.in[1]), p * sizeof(double));
  ode::Problem pb;
  pb.n = n;
  pb.m = m;
  pb.eval = [&](double t, const double* y, double* f, double* Jy, double* Jp) {
    x[0] = t;
    std::memcpy(x.data() + 1, y, n * sizeof(double));
    if (!Jy) return eval(fn, fw, x.data(), f);
    jacobian(fn, fw, x.data(), f, Jfull.data());
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < n; ++k) Jy[i * n + k] = Jfull[i * d + 1 + k];
      for (std::size_t j = 0; j < n; ++j) Jp[i * m + j] = 0.0;  // y0 enters only through S(t0) = I
      for (std::size_t j = 0; j < p; ++j) Jp[i * m + n + j] = Jfull[i * d + 1 + n + j];
    }
  };
  std::vector<double>& S = c.ws.tape[op.out];
  S.resize(T * n * m);
  std::vector<double> S0(n * m, 0.0);
  for (std::size_t i = 0; i < m && i < n; ++i) S0[i * m + i] = 1.0;
  ode::Options opt;
  opt.rtol = op.dp[1];
  opt.atol = op.dp[2];
  opt.max_steps = static_cast<long>(op.ip[5]);
  const double* times = op.dp.data() + 3;
  const double* y0 = c.v(op.in[0]);
  const ode::Status st = op.ip[4] == 0 ? ode::rk45(pb, op.dp[0], y0, S0.data(), times, T, opt, c.out(op.out), S.data())
                                       : ode::bdf(pb, op.dp[0], y0, S0.data(), times, T, opt, c.out(op.out), S.data());
  if (st == ode::Status::Ok || c.ws.failure != Divergence::None) return;
  c.ws.failure = st == ode::Status::MaxSteps       ? Divergence::OdeMaxSteps
                 : st == ode::Status::StepTooSmall ? Divergence::OdeStepTooSmall
                                                   : Divergence::OdeNotFinite;
}

void ode_backward(const Op& op, Ctx& c) {
  const std::size_t n = op.ip[1], p = op.ip[2], T = op.ip[3], m = n + p;
  const std::vector<double>& S = c.ws.tape[op.out];
  const double* ybar = c.a(op.out);
  double* y0bar = c.a(op.in[0]);
  double* thbar = p ? c.a(op.in[1]) : nullptr;
  for (std::size_t r = 0; r < T * n; ++r) {
    const double g = ybar[r];
    if (g == 0.0) continue;
    const double* row = S.data() + r * m;
    if (y0bar)
      for (std::size_t j = 0; j < n; ++j) y0bar[j] += g * row[j];
    if (thbar)
      for (std::size_t j = 0; j < p; ++j) thbar[j] += g * row[n + j];
  }
}

}  // namespace brr::ad
