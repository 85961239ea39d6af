// The device executor's kernels, one functor per kernel: operator()(t) does the work of grid index t
// (usually element i of lane b, t = i * B + b, in the batch executor's lane-interleaved layout). The
// same functors run on a CUDA grid (cuda/grid_executor.cu: one thread per index) and in a host loop
// (HostDev), so the CPU test suite checks every kernel's arithmetic. No atomics: every output value is
// written by one index, and every sum runs in a fixed order (rows by group through CSR lists built
// once, reductions over fixed chunks), so results are reproducible run to run.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ad/elementwise_terms.hpp"
#include "ir/op_codes.hpp"
#include "ad/scalar_math.hpp"
#include "common/hd.hpp"
#include "density/univariate_terms.hpp"

namespace brr::backend::grid {

using ir::OpCode;
namespace terms = ad::terms;

constexpr std::size_t kChunk = 256;  // elements per partial sum of a reduction

// An input as lane b sees it: element i at p[i * es + b * ls] (es = 0: broadcast, ls = 0: shared data)
struct Arg {
  const double* p = nullptr;
  std::size_t es = 0, ls = 0;
  BRR_HD double at(std::size_t i, std::size_t b) const { return p[i * es + b * ls]; }
};

// ---- reductions: out[b] = offset + scale * sum_i t[i B + b] (added to out[b] when add) ----

struct ChunkSums {  // t: (n, B) -> part: (chunks, B)
  const double* t;
  double* part;
  std::size_t n, B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t c = k / B, b = k % B, i1 = (c + 1) * kChunk < n ? (c + 1) * kChunk : n;
    double s = 0.0;
    for (std::size_t i = c * kChunk; i < i1; ++i) s += t[i * B + b];
    part[k] = s;
  }
};

struct ChunkTotal {  // part: (chunks, B) -> out: (B)
  const double* part;
  double* out;
  std::size_t chunks, B;
  double scale, offset;
  bool add;
  BRR_HD void operator()(std::size_t b) const {
    double s = 0.0;
    for (std::size_t c = 0; c < chunks; ++c) s += part[c * B + b];
    const double v = offset + scale * s;
    out[b] = add ? out[b] + v : v;
  }
};

// ---- elementwise ----

struct Unary {
  OpCode code;
  Arg a;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { o[k] = terms::unary_value(code, a.at(k / B, k % B)); }
};

struct UnaryBack {  // the input is lane-varying and full size
  OpCode code;
  const double *a, *o, *oa;
  double* aa;
  BRR_HD void operator()(std::size_t k) const { aa[k] += oa[k] * terms::unary_partial(code, a[k], o[k]); }
};

struct Binary {
  OpCode code;
  Arg x, y;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    o[k] = terms::binary_value(code, x.at(k / B, k % B), y.at(k / B, k % B));
  }
};

// one operand's adjoint terms: added in place (a full operand) or written to dst for a reduction
struct BinaryBack {
  OpCode code;
  bool wrt_x, add;
  Arg x, y;
  const double *o, *oa;
  double* dst;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t i = k / B, b = k % B;
    const double v = oa[k] * terms::binary_partial(code, wrt_x, x.at(i, b), y.at(i, b), o[k]);
    dst[k] = add ? dst[k] + v : v;
  }
};

// ---- structure ----

struct Gather {  // o[i] = a[ix[i]]
  Arg a;
  const int32_t* ix;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { o[k] = a.at(static_cast<std::size_t>(ix[k / B]), k % B); }
};

struct GatherAdd {  // dst[i] += src[ix[i]]
  const double* src;
  const int32_t* ix;
  double* dst;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { dst[k] += src[static_cast<std::size_t>(ix[k / B]) * B + k % B]; }
};

// dst[j] (+)= sum over the rows r listed for j (in row order) of w[r] * src[r]: the scatter-add of a
// gather's adjoint, a group sum, without atomics
struct SegmentSum {
  const int32_t *start, *rows;
  const double* src;
  const double* w;  // per-row data multiplier, or nullptr
  double* dst;
  bool add;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t j = k / B, b = k % B;
    double s = 0.0;
    for (int32_t q = start[j]; q < start[j + 1]; ++q) {
      const std::size_t r = static_cast<std::size_t>(rows[q]);
      s += w ? w[r] * src[r * B + b] : src[r * B + b];
    }
    dst[k] = add ? dst[k] + s : s;
  }
};

struct Broadcast {  // dst[i] += src[b] (src null: += c)
  const double* src;
  double c;
  double* dst;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { dst[k] += src ? src[k % B] : c; }
};

struct CumSumLines {  // along each line of an (outer, len, inner) layout; reverse: suffix sums added
  const double* a;
  double* o;
  std::size_t len, inner, B;
  bool reverse;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t line = k / B, b = k % B;
    const std::size_t start = (line / inner) * len * inner + line % inner;
    double acc = 0.0;
    for (std::size_t s = 0; s < len; ++s) {
      const std::size_t l = reverse ? len - 1 - s : s;
      const std::size_t at = (start + l * inner) * B + b;
      acc += a[at];
      if (reverse) o[at] += acc;
      else o[at] = acc;
    }
  }
};

struct MatMul {  // o(n, m) = X(n, kk) @ M(kk, m), X data
  const double *X, *M;
  double* o;
  std::size_t kk, m, B;
  BRR_HD void operator()(std::size_t t) const {
    const std::size_t rq = t / B, b = t % B, r = rq / m, q = rq % m;
    double s = 0.0;
    for (std::size_t j = 0; j < kk; ++j) s += X[r * kk + j] * M[(j * m + q) * B + b];
    o[t] = s;
  }
};

struct MatMulBack {  // aM(kk, m) += X^T oa
  const double *X, *oa;
  double* aM;
  std::size_t n, kk, m, B;
  BRR_HD void operator()(std::size_t t) const {
    const std::size_t jq = t / B, b = t % B, j = jq / m, q = jq % m;
    double s = 0.0;
    for (std::size_t r = 0; r < n; ++r) s += X[r * kk + j] * oa[(r * m + q) * B + b];
    aM[t] += s;
  }
};

// ---- transforms ----

struct Bound {  // lower / upper / interval: x = T(y), t = log|J| per element
  OpCode code;
  const double* y;
  double *x, *t;
  double lo, hi;
  BRR_HD void operator()(std::size_t k) const {
    const double v = y[k];
    if (code == OpCode::LowerBound) {
      x[k] = lo + std::exp(v);
      t[k] = v;
    } else if (code == OpCode::UpperBound) {
      x[k] = lo - std::exp(v);
      t[k] = v;
    } else {
      const double w = hi - lo;
      x[k] = lo + w * ad::inv_logit(v);
      t[k] = std::log(w) + ad::log_inv_logit(v) + ad::log1m_inv_logit(v);
    }
  }
};

struct BoundBack {
  OpCode code;
  const double *y, *x, *xa;
  double* ya;
  double lo, hi;
  BRR_HD void operator()(std::size_t k) const {
    if (code == OpCode::LowerBound) {
      ya[k] += xa[k] * (x[k] - lo) + 1.0;
    } else if (code == OpCode::UpperBound) {
      ya[k] += -xa[k] * (lo - x[k]) + 1.0;
    } else {
      const double s = ad::inv_logit(y[k]);
      ya[k] += xa[k] * (hi - lo) * s * (1.0 - s) + 1.0 - 2.0 * s;
    }
  }
};

// ---- densities ----

// A univariate density's terms: lp per element to lp_t; a full lane-varying input's partial added to
// its adjoint, a broadcast one's written to d_t[q] for a reduction.
struct Univariate {
  OpCode code;
  int N;
  Arg in[4];
  double* adj[4];
  bool full[4];
  double* lp_t;
  double* d_t[4];
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t i = k / B, b = k % B;
    double p[4] = {0, 0, 0, 0}, d[4] = {0, 0, 0, 0};
    for (int q = 0; q < N; ++q) p[q] = in[q].at(i, b);
    lp_t[k] = terms::univariate_lpdf(code, p, d);
    for (int q = 0; q < N; ++q) {
      if (!adj[q]) continue;
      if (full[q]) adj[q][k] += d[q];
      else d_t[q][k] = d[q];
    }
  }
};

struct IcarTerms {  // t[e] = (phi[i1[e]] - phi[i2[e]])^2
  const double* phi;
  const int32_t *i1, *i2;
  double* t;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t e = k / B, b = k % B;
    const double d = phi[static_cast<std::size_t>(i1[e]) * B + b] - phi[static_cast<std::size_t>(i2[e]) * B + b];
    t[k] = d * d;
  }
};

// node j's adjoint: over its edges (listed as e + 1 where j is the first end, -(e + 1) the second)
struct IcarGrad {
  const double* phi;
  const int32_t *i1, *i2, *start, *edges;
  double* pa;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t j = k / B, b = k % B;
    double s = 0.0;
    for (int32_t q = start[j]; q < start[j + 1]; ++q) {
      const int32_t code = edges[q];
      const std::size_t e = static_cast<std::size_t>(code > 0 ? code - 1 : -code - 1);
      const double d = phi[static_cast<std::size_t>(i1[e]) * B + b] - phi[static_cast<std::size_t>(i2[e]) * B + b];
      s += code > 0 ? -d : d;
    }
    pa[k] += s;
  }
};

// One term of a fused linear predictor: a[ix[r]], s or v[r], each optionally times a data column d[r].
struct GlmTerm {
  int64_t kind = 0;
  Arg v;
  const int32_t* ix = nullptr;
  const double* d = nullptr;
};

// GlmLpdf's rows: eta, the row's log-likelihood (family 3: its weighted squared residual) to t and
// d lp / d eta to g. Families 0 Bernoulli-logit, 1 Binomial-logit, 2 Poisson-log, 3 Normal.
struct GlmRows {
  int64_t family;
  const GlmTerm* terms;
  int nt;
  const double *y, *trials, *wt;
  const double* inv_var;  // family 3: 1 / sigma^2 per lane (0 where sigma is invalid)
  double *t, *g;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t r = k / B, b = k % B;
    double eta = 0.0;
    for (int q = 0; q < nt; ++q) {
      const GlmTerm& u = terms[q];
      const double v = u.kind == 0 ? u.v.at(static_cast<std::size_t>(u.ix[r]), b) : u.kind == 1 ? u.v.at(0, b) : u.v.at(r, b);
      eta += u.d ? u.d[r] * v : v;
    }
    const double yr = y[r];
    if (family == 0 || family == 1) {
      double sp, sg;
      ad::softplus_and_sigmoid(eta, sp, sg);
      const double n = family == 1 ? trials[r] : 1.0;
      t[k] = yr * eta - n * sp;
      g[k] = yr - n * sg;
    } else if (family == 2) {
      const double mu = std::exp(eta) * (wt ? wt[r] : 1.0);
      t[k] = yr * eta - mu;
      g[k] = yr - mu;
    } else {
      const double w = wt ? wt[r] : 1.0, res = yr - eta;
      t[k] = w * res * res;
      g[k] = w * res * inv_var[b];
    }
  }
};

struct InvVar {  // family 3: 1 / sigma^2 per lane, 0 where sigma is not positive
  Arg sigma;
  double* inv_var;
  BRR_HD void operator()(std::size_t b) const {
    const double s = sigma.at(0, b);
    inv_var[b] = s > 0 ? 1.0 / (s * s) : 0.0;
  }
};

// family 3's per-lane total from the summed squares ss: lp and sigma's adjoint (glm.cpp's formula)
struct GlmNormalTotal {
  Arg sigma;
  const double *ss, *inv_var;
  double* target;
  double* sigma_adj;  // nullptr without gradient
  double dp0, extra_ss, rows;
  BRR_HD void operator()(std::size_t b) const {
    const double s = sigma.at(0, b);
    if (!(s > 0)) {
      target[b] += -HUGE_VAL;
      return;
    }
    const double q = ss[b] + extra_ss, iv = inv_var[b];
    target[b] += dp0 - 0.5 * q * iv - rows * (std::log(s) + ad::kLogSqrt2Pi);
    if (sigma_adj) sigma_adj[b] += (q * iv - rows) / s;
  }
};

struct Scaled {  // dst[r] = d[r] * g[r] (d null: g) for a reduction, or added to dst (add)
  const double *g, *d;
  double* dst;
  bool add;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const double v = d ? d[k / B] * g[k] : g[k];
    dst[k] = add ? dst[k] + v : v;
  }
};

}  // namespace brr::backend::grid
