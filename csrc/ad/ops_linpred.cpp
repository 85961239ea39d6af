// Fused linear predictor: out = sum of gathered group effects, scalars and columns, each optionally
// scaled by a data column. One op replaces chains of gathers and adds; rows go in cache-sized blocks.
#include <algorithm>

#include "ad/kernels.hpp"

namespace brr::ad {

namespace {

constexpr std::size_t kBlock = 2048;

struct Term {
  int64_t kind;        // 0 gather, 1 scalar, 2 dense
  const double* v;     // values (group effects, scalar or column)
  double* va;          // their adjoint, or nullptr
  const int32_t* ix;   // gather index
  const double* d;     // optional data multiplier
};

template <class F>
void for_terms(const Op& op, Ctx& c, F f) {
  for (std::size_t t = 0; t < op.ip.size(); t += 4) {
    const int64_t kind = op.ip[t], vi = op.ip[t + 1], xi = op.ip[t + 2], di = op.ip[t + 3];
    Term term{kind, c.v(op.in[vi]), c.a(op.in[vi]), xi >= 0 ? c.index(op.idx[xi]) : nullptr,
              di >= 0 ? c.v(op.in[di]) : nullptr};
    f(term);
  }
}

}  // namespace

void linpred_forward(const Op& op, Ctx& c) {
  double* o = c.v(op.out);
  const std::size_t n = c.n(op.out);
  for (std::size_t b0 = 0; b0 < n; b0 += kBlock) {
    const std::size_t b1 = std::min(n, b0 + kBlock);
    std::fill(o + b0, o + b1, 0.0);
    for_terms(op, c, [&](const Term& t) {
      if (t.kind == 0) {
        if (t.d) for (std::size_t i = b0; i < b1; ++i) o[i] += t.d[i] * t.v[t.ix[i]];
        else for (std::size_t i = b0; i < b1; ++i) o[i] += t.v[t.ix[i]];
      } else if (t.kind == 1) {
        const double s = t.v[0];
        if (t.d) for (std::size_t i = b0; i < b1; ++i) o[i] += t.d[i] * s;
        else for (std::size_t i = b0; i < b1; ++i) o[i] += s;
      } else {
        if (t.d) for (std::size_t i = b0; i < b1; ++i) o[i] += t.d[i] * t.v[i];
        else for (std::size_t i = b0; i < b1; ++i) o[i] += t.v[i];
      }
    });
  }
}

// Scatter-add through four interleaved copies: consecutive rows with the same group id (rows are
// often sorted by group) then update different memory, so the adds do not wait on each other.
void split_scatter_add(const int32_t* ix, const double* g, const double* d, std::size_t n, double* va,
                       std::size_t L, double* acc) {
  std::fill(acc, acc + 4 * L, 0.0);
  double* a0 = acc;
  double* a1 = acc + L;
  double* a2 = acc + 2 * L;
  double* a3 = acc + 3 * L;
  std::size_t i = 0;
  if (d) {
    for (; i + 4 <= n; i += 4) {
      a0[ix[i]] += d[i] * g[i];
      a1[ix[i + 1]] += d[i + 1] * g[i + 1];
      a2[ix[i + 2]] += d[i + 2] * g[i + 2];
      a3[ix[i + 3]] += d[i + 3] * g[i + 3];
    }
    for (; i < n; ++i) a0[ix[i]] += d[i] * g[i];
  } else {
    for (; i + 4 <= n; i += 4) {
      a0[ix[i]] += g[i];
      a1[ix[i + 1]] += g[i + 1];
      a2[ix[i + 2]] += g[i + 2];
      a3[ix[i + 3]] += g[i + 3];
    }
    for (; i < n; ++i) a0[ix[i]] += g[i];
  }
  for (std::size_t k = 0; k < L; ++k) va[k] += (a0[k] + a1[k]) + (a2[k] + a3[k]);
}

void linpred_backward(const Op& op, Ctx& c) {
  const double* g = c.a(op.out);
  const std::size_t n = c.n(op.out);
  std::size_t t_at = 0;
  for_terms(op, c, [&](const Term& t) {
    const std::size_t L = c.n(op.in[op.ip[t_at + 1]]);
    t_at += 4;
    if (!t.va) return;
    if (t.kind == 0) {
      split_scatter_add(t.ix, g, t.d, n, t.va, L, c.ws.scratch.data());
    } else if (t.kind == 1) {
      double s = 0.0;
      if (t.d) for (std::size_t i = 0; i < n; ++i) s += t.d[i] * g[i];
      else for (std::size_t i = 0; i < n; ++i) s += g[i];
      t.va[0] += s;
    } else {
      if (t.d) for (std::size_t i = 0; i < n; ++i) t.va[i] += t.d[i] * g[i];
      else for (std::size_t i = 0; i < n; ++i) t.va[i] += g[i];
    }
  });
}

}  // namespace brr::ad
