// Fused univariate log-densities over broadcast inputs: one pass computes the value and every partial.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common/scalar_math.hpp"
#include "common/strides.hpp"
#include "ad/kernels.hpp"
#include "density/density_kernels.hpp"
#include "density/univariate_terms.hpp"

namespace brr::ad {

namespace {

using namespace terms;

// Runs f(args, partials) -> log p over n elements; inputs of size 1 broadcast.
// Partials go straight to the input adjoints: a density's output adjoint is always 1.
template <int N, class F>
void run(const Op& op, Ctx& c, F f) {
  const double* v[N];
  double* a[N];
  std::size_t st[N];
  std::size_t n = 1;
  for (int k = 0; k < N; ++k) n = std::max(n, c.n(op.in[k]));
  bool any_grad = false;
  for (int k = 0; k < N; ++k) {
    v[k] = c.v(op.in[k]);
    a[k] = c.a(op.in[k]);
    st[k] = c.n(op.in[k]) == n ? 1 : 0;
    any_grad |= a[k] != nullptr;
  }
  double lp = op.dp.empty() ? 0.0 : op.dp[0];  // data-only constant precomputed at compile time
  double args[N], d[N] = {}, acc[N] = {};
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < N; ++k) args[k] = v[k][i * st[k]];
    lp += f(args, d);
    if (any_grad)
      for (int k = 0; k < N; ++k)
        if (a[k]) {
          if (st[k]) a[k][i] += d[k];
          else acc[k] += d[k];
        }
  }
  for (int k = 0; k < N; ++k)
    if (a[k] && !st[k]) a[k][0] += acc[k];
  c.target += lp;
}

// Normal with one scale for all elements (the usual regression likelihood): log(sigma) and 1/sigma
// once, the sigma partial as one sum.
bool normal_scalar_sigma(const Op& op, Ctx& c) {
  if (c.n(op.in[2]) != 1) return false;
  const std::size_t n = std::max(c.n(op.in[0]), c.n(op.in[1]));
  const double* x = c.v(op.in[0]);
  const double* mu = c.v(op.in[1]);
  const std::size_t sx = c.n(op.in[0]) == n ? 1 : 0, sm = c.n(op.in[1]) == n ? 1 : 0;
  double* xa = c.a(op.in[0]);
  double* ma = c.a(op.in[1]);
  double* sa = c.a(op.in[2]);
  const double s = c.v(op.in[2])[0];
  if (!(s > 0)) {
    c.target = NEG_INF;
    return true;
  }
  const double inv = 1.0 / s;
  double ss = 0.0, xacc = 0.0, macc = 0.0;
  with_strides(sx, sm, [&](auto SX, auto SM) {
    // four lanes (rows i mod 4) for each running sum: one accumulator would wait on the add latency
    double s4[4] = {}, x4[4] = {}, m4[4] = {};
    auto row = [&](std::size_t i, int l) {
      const double z = (x[i * SX] - mu[i * SM]) * inv;
      s4[l] += z * z;
      const double dz = z * inv;
      if (xa) {
        if constexpr (SX == 1) xa[i] -= dz;
        else x4[l] -= dz;
      }
      if (ma) {
        if constexpr (SM == 1) ma[i] += dz;
        else m4[l] += dz;
      }
    };
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      row(i, 0);
      row(i + 1, 1);
      row(i + 2, 2);
      row(i + 3, 3);
    }
    for (; i < n; ++i) row(i, 0);
    ss = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    xacc = (x4[0] + x4[1]) + (x4[2] + x4[3]);
    macc = (m4[0] + m4[1]) + (m4[2] + m4[3]);
  });
  if (xa && !sx) xa[0] += xacc;
  if (ma && !sm) ma[0] += macc;
  const double nn = static_cast<double>(n);
  if (sa) sa[0] += (ss - nn) * inv;
  c.target += (op.dp.empty() ? 0.0 : op.dp[0]) - 0.5 * ss - nn * (std::log(s) + kLogSqrt2Pi);
  return true;
}

// PointwiseLpdf: the same per-element functions, each term written to out[i] (forward) or its
// partials times out's adjoint added to the inputs' adjoints (backward, recomputed: no tape).
template <int N, class F>
void pointwise(const Op& op, Ctx& c, F f, bool backward) {
  const std::size_t n = c.n(op.out);
  const double* v[N];
  double* a[N];
  std::size_t st[N];
  for (int k = 0; k < N; ++k) {
    v[k] = c.v(op.in[k]);
    a[k] = backward ? c.a(op.in[k]) : nullptr;
    st[k] = c.n(op.in[k]) == n ? 1 : 0;
  }
  double* out = c.out(op.out);
  const double* g = backward ? c.a(op.out) : nullptr;
  const bool with_terms = op.in.size() == N + 1;  // data-only terms of the density, per element
  const double* terms = with_terms ? c.v(op.in[N]) : nullptr;
  const std::size_t tst = with_terms && c.n(op.in[N]) == n ? 1 : 0;
  double args[N], d[N] = {};
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < N; ++k) args[k] = v[k][i * st[k]];
    const double lp = f(args, d);
    if (!backward) {
      out[i] = terms ? lp + terms[i * tst] : lp;
      continue;
    }
    if (!std::isfinite(lp)) continue;  // outside the support: no partials to pass on
    for (int k = 0; k < N; ++k)
      if (a[k]) a[k][i * st[k]] += g[i] * d[k];
  }
}
void run_pointwise(const Op& op, Ctx& c, bool backward) {
  with_kernel(static_cast<OpCode>(op.ip[0]), [&](auto arity, auto f) {
    pointwise<decltype(arity)::value>(op, c, f, backward);
  });
}

}  // namespace

void pointwise_forward(const Op& op, Ctx& c) { run_pointwise(op, c, false); }
void pointwise_backward(const Op& op, Ctx& c) { run_pointwise(op, c, true); }

bool univariate_density(const Op& op, Ctx& c) {
  // the one code -> kernel table (with_kernel) serves these fused sums and PointwiseLpdf alike
  if (op.code == OpCode::NormalLpdf && normal_scalar_sigma(op, c)) return true;
  return with_kernel(op.code, [&](auto arity, auto f) { run<decltype(arity)::value>(op, c, f); });
}

}  // namespace brr::ad
