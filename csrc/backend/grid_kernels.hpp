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

#include "ops/elementwise/binary.hpp"
#include "ops/elementwise/unary.hpp"
#include "ops/spec.hpp"
#include "ir/op_codes.hpp"
#include "common/scalar_math.hpp"
#include "common/hd.hpp"
#include "common/view.hpp"
#include "ad/hmm_rows.hpp"
#include "density/glm_rows.hpp"
#include "density/univariate_terms.hpp"
#include "ir/glm_codes.hpp"

namespace brr::backend::grid {

using ir::OpCode;
namespace terms = ad::terms;

constexpr std::size_t kChunk = 256;  // elements per partial sum of a reduction

// An input as lane b sees it: element i at p[i * es + b * ls] (es = 0: broadcast, ls = 0: shared data)
using Arg = ops::LaneArg;

using ops::lane;  // lane b's view of an input or of an output (ops/spec.hpp)
using ops::view;

// ---- layout: the host's points are rows (b * d + i), the device's lanes interleaved (i * B + b) ----

struct RowsToLanes {  // one thread per device element: writes adjacent, reads strided
  const double* rows;
  double* lanes;
  std::size_t d, B;
  BRR_HD void operator()(std::size_t k) const { lanes[k] = rows[(k % B) * d + k / B]; }
};

struct LanesToRows {
  const double* lanes;
  double* rows;
  std::size_t d, B;
  BRR_HD void operator()(std::size_t k) const { rows[k] = lanes[(k % d) * B + k / d]; }
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
  BRR_HD void operator()(std::size_t k) const { o[k] = ops::unary_value(code, a.at(k / B, k % B)); }
};

struct UnaryBack {  // the input is lane-varying and full size
  OpCode code;
  const double *a, *o, *oa;
  double* aa;
  BRR_HD void operator()(std::size_t k) const { aa[k] += oa[k] * ops::unary_partial(code, a[k], o[k]); }
};

struct Binary {
  OpCode code;
  Arg x, y;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    o[k] = ops::binary_value(code, x.at(k / B, k % B), y.at(k / B, k % B));
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
    const double v = oa[k] * ops::binary_partial(code, wrt_x, x.at(i, b), y.at(i, b), o[k]);
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
struct Broadcast {  // dst[i] += src[b] (src null: += c)
  const double* src;
  double c;
  double* dst;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { dst[k] += src ? src[k % B] : c; }
};

struct CopyRange {  // o[i] = a[i]: a scan step's output into its block of the series
  Arg a;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { o[k] = a.at(k / B, k % B); }
};

struct AddRange {  // dst[i] += src[i]
  const double* src;
  double* dst;
  BRR_HD void operator()(std::size_t k) const { dst[k] += src[k]; }
};

// ---- scan steps (the step's body runs on an executor of its own) ----

struct ScanInput {  // o = [x[t-1] (n), u[t] (k), theta]: a step's input vector
  Arg prev, u, th;
  double* o;
  std::size_t n, k, B;
  BRR_HD void operator()(std::size_t kk) const {
    const std::size_t i = kk / B, b = kk % B;
    o[kk] = i < n ? prev.at(i, b) : i < n + k ? u.at(i - n, b) : th.at(i - n - k, b);
  }
};

struct ScanSeed {  // the step output's adjoint: xbar[t] + lambda
  const double* xbar;
  const double* lam;
  double* fa;
  BRR_HD void operator()(std::size_t kk) const { fa[kk] += xbar[kk] + lam[kk]; }
};

struct ScanTake {  // the step input's adjoint g: lambda = g[:n], ubar[t] += g[n:n+k], thetabar += g[n+k:]
  const double* g;
  double *lam, *ua, *tha;
  std::size_t n, k, B;
  BRR_HD void operator()(std::size_t kk) const {
    const std::size_t i = kk / B;
    if (i < n) lam[kk] = g[kk];
    else if (i < n + k) { if (ua) ua[kk - n * B] += g[kk]; }
    else if (tha) tha[kk - (n + k) * B] += g[kk];
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

// y(nr) = A(nr, nc) b for CSR A (indptr, indices, data values): one row per index
struct CsrRows {
  const int32_t *indptr, *indices;
  const double *vals, *b;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t r = k / B, l = k % B;
    double s = 0.0;
    for (int32_t e = indptr[r]; e < indptr[r + 1]; ++e) s += vals[e] * b[static_cast<std::size_t>(indices[e]) * B + l];
    o[k] = s;
  }
};

// HMM sequences of one lane per index (ad/hmm_rows.hpp), in sequence order; scr: the lane's scratch
struct HmmLane {
  Arg li, A, e;
  double *out, *scr;
  std::size_t S, T, K, B;
  BRR_HD void operator()(std::size_t b) const {
    const ad::hmm::Scratch v = ad::hmm::scratch(Out{scr + b, B}, T, K);
    ad::hmm::fill_P(view(A, b), K, v);
    for (std::size_t s = 0; s < S; ++s) out[s * B + b] = ad::hmm::forward_one(view(li, b), view(e, b).at(s * T * K), T, K, v);
  }
};

struct HmmLaneBack {
  Arg li, A, e;
  const double* g;
  double *gli, *gA, *ge, *scr;
  std::size_t S, T, K, B;
  BRR_HD void operator()(std::size_t b) const {
    const ad::hmm::Scratch v = ad::hmm::scratch(Out{scr + b, B}, T, K);
    ad::hmm::fill_P(view(A, b), K, v);
    for (std::size_t s = 0; s < S; ++s)
      ad::hmm::backward_one(g[s * B + b], view(li, b), view(e, b).at(s * T * K), T, K, v, lane(gli, b, B),
                            lane(gA, b, B), lane(ge, b, B).at(s * T * K));
  }
};

// ---- transforms ----

// t[i * B + b] = f(i, b): an op spec's per-element log density terms, for reduce()
template <class F>
struct LaneTerms {
  F f;
  double* t;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { t[k] = f(k / B, k % B); }
};

// t[i * B + b] = the terms f(i, b, acc) adds to acc from 0: an op spec's items of several terms, for reduce()
template <class F>
struct LaneAcc {
  F f;
  double* t;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    double acc = 0.0;
    f(k / B, k % B, acc);
    t[k] = acc;
  }
};

// ---- densities ----

// A univariate density's inputs (value first) as lane b sees them, and where each one's partial goes:
// added to a full lane-varying input's adjoint, or written to d_t[q] for a broadcast one's reduction.
struct DensityTerms {
  OpCode code;
  int N;
  Arg in[4];
  double* adj[4];  // nullptr: no gradient for that input
  bool full[4];
  double* d_t[4];
  BRR_HD double lpdf(std::size_t i, std::size_t b, double* d) const {
    double p[4] = {0, 0, 0, 0};
    for (int q = 0; q < N; ++q) p[q] = in[q].at(i, b);
    return terms::univariate_lpdf(code, p, d);
  }
  // g * d[q] passed on for grid index k (0 where ok is false: outside the support)
  BRR_HD void pass(std::size_t k, const double* d, double g, bool ok) const {
    for (int q = 0; q < N; ++q) {
      if (!adj[q]) continue;
      const double v = ok ? g * d[q] : 0.0;
      if (full[q]) adj[q][k] += v;
      else d_t[q][k] = v;
    }
  }
};

// the summed density: lp per element to lp_t, partials passed on going forward
struct Univariate {
  DensityTerms u;
  double* lp_t;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    double d[4] = {0, 0, 0, 0};
    lp_t[k] = u.lpdf(k / B, k % B, d);
    u.pass(k, d, 1.0, true);
  }
};

// PointwiseLpdf: each element's log-density to o (plus its data-only term, when the op has one).
struct Pointwise {
  DensityTerms u;
  Arg extra;  // p null: no data-only terms
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t i = k / B, b = k % B;
    double d[4] = {0, 0, 0, 0};
    const double lp = u.lpdf(i, b, d);
    o[k] = extra.p ? lp + extra.at(i, b) : lp;
  }
};

// its partials (recomputed) times o's adjoint; nothing passes on where the element is outside the support
struct PointwiseBack {
  DensityTerms u;
  const double* oa;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    double d[4] = {0, 0, 0, 0};
    const bool ok = std::isfinite(u.lpdf(k / B, k % B, d));
    u.pass(k, d, oa[k], ok);
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

// One term of a fused linear predictor: a[ix[r]], s, v[r] or s * v[r] (kind 3, s its own input), each
// optionally times a data column d[r].
struct GlmTerm {
  int64_t kind = 0;
  Arg v;
  const int32_t* ix = nullptr;
  const double* d = nullptr;
  Arg s;  // kind 3: the scalar (element stride 0)
};

// eta of row r in lane b: the sum of the terms, in term order (the CPU kernels' order)
BRR_HD inline double linear_eta(const GlmTerm* terms, int nt, std::size_t r, std::size_t b) {
  double eta = 0.0;
  for (int q = 0; q < nt; ++q) {
    const GlmTerm& u = terms[q];
    const double v = u.kind == kTermGather   ? u.v.at(static_cast<std::size_t>(u.ix[r]), b)
                     : u.kind == kTermScalar ? u.v.at(0, b)
                     : u.kind == kTermDense ? u.v.at(r, b)
                                   : u.s.at(0, b) * u.v.at(r, b);
    eta += u.d ? u.d[r] * v : v;
  }
  return eta;
}

struct LinPredRows {  // LinearPredictor: o[r] = eta
  const GlmTerm* terms;
  int nt;
  double* o;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const { o[k] = linear_eta(terms, nt, k / B, k % B); }
};

// GlmLpdf's rows: eta, the row's log-likelihood (family 3: its weighted squared residual) to t and
// d lp / d eta to g. Families 0 Bernoulli-logit, 1 Binomial-logit, 2 Poisson-log, 3 Normal,
// 4 negative binomial (log link).
struct GlmRows {
  int64_t family;
  const GlmTerm* terms;
  int nt;
  const double *y, *trials, *wt;
  const double* inv_var;  // family 3: 1 / sigma^2 per lane (0 where sigma is invalid)
  const double* lane_aux; // family 4: phi (B), then log phi (B) per lane
  double *t, *g, *e;      // e: family 4's d/d phi per row
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t r = k / B, b = k % B;
    const double eta = linear_eta(terms, nt, r, b);
    const double yr = y[r];
    if (family == kGlmBernoulli || family == kGlmBinomial) {
      double sp, sg;
      softplus_and_sigmoid(eta, sp, sg);
      const double n = family == kGlmBinomial ? trials[r] : 1.0;
      t[k] = yr * eta - n * sp;
      g[k] = yr - n * sg;
    } else if (family == kGlmPoisson) {
      const double mu = std::exp(eta) * (wt ? wt[r] : 1.0);
      t[k] = yr * eta - mu;
      g[k] = yr - mu;
    } else if (family == kGlmNegBin) {
      if (lane_aux[b] > 0) ad::negbin_log_row(eta, yr, lane_aux[b], lane_aux[B + b], t[k], g[k], e[k]);
      else t[k] = g[k] = e[k] = 0.0;  // an invalid phi: the lane's lp is -inf (GlmNegBinTotal), no gradient
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
    target[b] += dp0 - 0.5 * q * iv - rows * (std::log(s) + kLogSqrt2Pi);
    if (sigma_adj) sigma_adj[b] += (q * iv - rows) / s;
  }
};

struct PhiLane {  // family 4: phi and log phi per lane
  Arg phi;
  double* lane_aux;
  std::size_t B;
  BRR_HD void operator()(std::size_t b) const {
    const double p = phi.at(0, b);
    lane_aux[b] = p;
    lane_aux[B + b] = p > 0 ? std::log(p) : 0.0;
  }
};

// family 4's per-lane total from the rows' sums (t_sum, e_sum): lp and phi's adjoint (glm.cpp's formula)
struct GlmNegBinTotal {
  const double *lane_aux, *t_sum, *e_sum;  // e_sum nullptr without gradient
  double* target;
  double* phi_adj;
  double dp0, rows;
  std::size_t B;
  BRR_HD void operator()(std::size_t b) const {
    const double p = lane_aux[b];
    if (!(p > 0)) {
      target[b] += -HUGE_VAL;
      return;
    }
    target[b] += t_sum[b] + dp0 - rows * std::lgamma(p);
    if (phi_adj && e_sum) phi_adj[b] += e_sum[b] - rows * digamma(p);
  }
};

struct Scaled {  // dst[r] = f[r] * (d[r] * g[r]) (d null: g; f empty: 1) for a reduction, or added to dst (add)
  const double *g, *d;
  double* dst;
  bool add;
  std::size_t B;
  Arg f{};  // a scaled dense term's scalar (its vector's adjoint) or vector (its scalar's)
  BRR_HD void operator()(std::size_t k) const {
    double v = d ? d[k / B] * g[k] : g[k];
    if (f.p) v = f.at(k / B, k % B) * v;
    dst[k] = add ? dst[k] + v : v;
  }
};

}  // namespace brr::backend::grid
