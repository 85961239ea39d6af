// Scan: x[t] = f(x[t-1], u[t], theta) for t = 0..T-1 with x[-1] = x0, for any Function f (a nonlinear
// state-space step, a GARCH variance, a logistic growth curve). Forward runs the step T times;
// backward runs it backwards as vector-Jacobian products: lambda = xbar[t] + lambda, then
// [lambda, ubar[t], thetabar] += J_f(x[t-1], u[t], theta)^T lambda.
#include <algorithm>
#include <cstring>

#include "ad/function.hpp"
#include "ad/kernels.hpp"

namespace brr::ad {

namespace {

struct ScanShape {
  std::size_t T, n, k, p;
  explicit ScanShape(const Op& op) : T(op.ip[1]), n(op.ip[2]), k(op.ip[3]), p(op.ip[4]) {}
  std::size_t d() const { return n + k + p; }
  int u_in() const { return k ? 1 : -1; }
  int theta_in() const { return p ? 1 + (k > 0) : -1; }
};

// the step's input vector at time t: [x[t-1], u[t], theta]
void step_input(const ScanShape& s, const Op& op, Ctx& c, std::size_t t, double* xin) {
  const double* prev = t == 0 ? c.v(op.in[0]) : c.v(op.out) + (t - 1) * s.n;
  std::memcpy(xin, prev, s.n * sizeof(double));
  if (s.k) std::memcpy(xin + s.n, c.v(op.in[s.u_in()]) + t * s.k, s.k * sizeof(double));
  if (s.p) std::memcpy(xin + s.n + s.k, c.v(op.in[s.theta_in()]), s.p * sizeof(double));
}

}  // namespace

void scan_forward(const Op& op, Ctx& c) {
  const ScanShape s(op);
  const Function& f = c.prog.function(static_cast<int>(op.ip[0]));
  Workspace& fw = c.ws.fn_ws[op.ip[0]];
  double* xin = c.ws.scratch.data();
  double* x = c.out(op.out);
  for (std::size_t t = 0; t < s.T; ++t) {
    step_input(s, op, c, t, xin);
    eval(f, fw, xin, x + t * s.n);
  }
}

void scan_backward(const Op& op, Ctx& c) {
  const ScanShape s(op);
  const Function& f = c.prog.function(static_cast<int>(op.ip[0]));
  Workspace& fw = c.ws.fn_ws[op.ip[0]];
  double* xin = c.ws.scratch.data();
  double* g = xin + s.d();
  double* lam = g + s.d();
  double* w = lam + s.n;
  const double* xbar = c.a(op.out);
  double* ubar = s.k ? c.a(op.in[s.u_in()]) : nullptr;
  double* thbar = s.p ? c.a(op.in[s.theta_in()]) : nullptr;
  double* x0bar = c.a(op.in[0]);
  std::fill(lam, lam + s.n, 0.0);
  for (std::size_t t = s.T; t-- > 0;) {
    for (std::size_t i = 0; i < s.n; ++i) w[i] = xbar[t * s.n + i] + lam[i];
    step_input(s, op, c, t, xin);
    std::fill(g, g + s.d(), 0.0);
    vjp(f, fw, xin, w, nullptr, g);
    std::memcpy(lam, g, s.n * sizeof(double));  // what x[t-1] receives
    if (ubar)
      for (std::size_t i = 0; i < s.k; ++i) ubar[t * s.k + i] += g[s.n + i];
    if (thbar)
      for (std::size_t i = 0; i < s.p; ++i) thbar[i] += g[s.n + s.k + i];
  }
  if (x0bar)
    for (std::size_t i = 0; i < s.n; ++i) x0bar[i] += lam[i];
}

}  // namespace brr::ad
