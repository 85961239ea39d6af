// A first-order linear recurrence over time, vectorised over n series:
//   x[t] = a[t] * x[t-1] + b[t],  t = 0..T-1,  x[-1] = x0,
// with a, b (T x n) and x0 (n). ARMA error recursions (e_t = -theta e_{t-1} + ...), GARCH variances
// (s_t = beta s_{t-1} + omega + alpha e_{t-1}^2) and local-level filters are this recurrence; its
// adjoint is the same recurrence run backwards: lambda[t] = xbar[t] + a[t+1] lambda[t+1].
#include "ad/kernels.hpp"

namespace brr::ad {

void recurrence_forward(const Op& op, Ctx& c) {
  const std::size_t T = op.ip[0], n = op.ip[1];
  const double* a = c.v(op.in[0]);
  const double* b = c.v(op.in[1]);
  const double* x0 = c.v(op.in[2]);
  double* x = c.out(op.out);
  for (std::size_t j = 0; j < n; ++j) x[j] = a[j] * x0[j] + b[j];
  for (std::size_t t = 1; t < T; ++t)
    for (std::size_t j = 0; j < n; ++j) x[t * n + j] = a[t * n + j] * x[(t - 1) * n + j] + b[t * n + j];
}

void recurrence_backward(const Op& op, Ctx& c) {
  const std::size_t T = op.ip[0], n = op.ip[1];
  const double* a = c.v(op.in[0]);
  const double* x0 = c.v(op.in[2]);
  const double* x = c.v(op.out);
  const double* xbar = c.a(op.out);
  double* abar = c.a(op.in[0]);
  double* bbar = c.a(op.in[1]);
  double* x0bar = c.a(op.in[2]);
  double* lam = c.ws.scratch.data();  // n: lambda at t + 1 times a[t + 1]
  for (std::size_t j = 0; j < n; ++j) lam[j] = 0.0;
  for (std::size_t tt = T; tt-- > 0;) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = tt * n + j;
      const double l = xbar[i] + lam[j];            // d target / d x[t], all paths through later steps
      const double prev = tt == 0 ? x0[j] : x[i - n];
      if (abar) abar[i] += l * prev;
      if (bbar) bbar[i] += l;
      lam[j] = a[i] * l;                            // passed to x[t-1]
    }
  }
  if (x0bar)
    for (std::size_t j = 0; j < n; ++j) x0bar[j] += lam[j];
}

}  // namespace brr::ad
