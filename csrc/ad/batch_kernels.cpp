// Lane kernels of the batch executor (batch.hpp): element i of lane b sits at i * B + b, so inner loops
// run over contiguous lanes. Every kernel repeats its scalar twin's arithmetic per lane in the same
// order (the same four-accumulator sums, the same split scatter copies, the same row blocks), which is
// what makes a lane's result equal the scalar evaluation's bit for bit.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "ad/batch.hpp"
#include "ops/elementwise/binary.hpp"
#include "ad/kernels.hpp"
#include "ad/linpred_terms.hpp"
#include "ad/spec_views.hpp"
#include "ir/op_shapes.hpp"
#include "common/reduce.hpp"
#include "common/strides.hpp"
#include "common/vec_math.hpp"
#include "density/univariate_terms.hpp"
#include "ops/all.hpp"
#include "ops/elementwise/unary.hpp"
#include "ir/glm_codes.hpp"

// BRR_IVDEP (lane loops free of loop-carried dependences) and lane_sums: common/reduce.hpp

namespace brr::ad {

namespace {

// An input as seen from lane b: element i at p[i * es + b * ls] (es = 0: broadcast; ls = 0: shared data).
using Arg = ops::LaneArg;
Arg arg(const BatchCtx& c, int s, std::size_t n) { return ops::lane_arg(c.v(s), c.varies(s), c.n(s) == n, c.B); }

bool is_univariate(OpCode code) {
  return terms::with_kernel(code, [](auto, auto) {});
}

// ---- elementwise ----

void binary_fwd(const Op& op, BatchCtx& c, std::size_t B) {
  const std::size_t n = c.n(op.out);
  const Arg A = arg(c, op.in[0], n), Y = arg(c, op.in[1], n);
  double* o = c.out(op.out);
  ops::with_binary(op.code, [&](auto f, auto, auto) {
    with_strides(A.ls, Y.ls, [&](auto LA, auto LY) {
      for (std::size_t i = 0; i < n; ++i) {
        const double* a = A.p + i * A.es;
        const double* y = Y.p + i * Y.es;
        double* oi = o + i * B;
        BRR_IVDEP for (std::size_t b = 0; b < B; ++b) oi[b] = f(a[b * LA], y[b * LY]);
      }
    });
  });
}

void binary_bwd(const Op& op, BatchCtx& c, std::size_t B) {
  const std::size_t n = c.n(op.out);
  const Arg A = arg(c, op.in[0], n), Y = arg(c, op.in[1], n);
  double* aa = c.a(op.in[0]);
  double* ya = c.a(op.in[1]);
  const double* o = c.v(op.out);
  const double* oa = c.a(op.out);
  double* tmp = c.scratch(5 * B);
  ops::with_binary(op.code, [&](auto, auto fa, auto fy) {
    with_strides(A.ls, Y.ls, [&](auto LA, auto LY) {
      auto at = [&](const Arg& x, auto L, std::size_t i, std::size_t b) { return x.p[i * x.es + b * L]; };
      // one operand's adjoint: per element for a full operand, a lane sum for a broadcast one (es = 0
      // reads its element 0 at every i, as the scalar kernel's a[0])
      auto side = [&](double* dst, const Arg& self, auto f) {
        auto term = [&](std::size_t i, std::size_t b) {
          return oa[i * B + b] * f(at(A, LA, i, b), at(Y, LY, i, b), o[i * B + b]);
        };
        if (self.es) {
          for (std::size_t i = 0; i < n; ++i)
            BRR_IVDEP for (std::size_t b = 0; b < B; ++b) dst[i * B + b] += term(i, b);
        } else {
          lane_sums(n, B, tmp, term, tmp + 4 * B);
          BRR_IVDEP for (std::size_t b = 0; b < B; ++b) dst[b] += tmp[4 * B + b];
        }
      };
      if (aa) side(aa, A, fa);
      if (ya) side(ya, Y, fy);
    });
  });
}

// ---- structure ----

void gather_fwd(const Op& op, BatchCtx& c, std::size_t B) {
  const std::size_t n = c.n(op.out);
  const int32_t* ix = c.index(op.idx[0]);
  const double* a = c.v(op.in[0]);
  double* o = c.out(op.out);
  if (c.varies(op.in[0])) {
    for (std::size_t i = 0; i < n; ++i) std::memcpy(o + i * B, a + static_cast<std::size_t>(ix[i]) * B, B * sizeof(double));
  } else {
    for (std::size_t i = 0; i < n; ++i) std::fill(o + i * B, o + (i + 1) * B, a[ix[i]]);
  }
}

void scatter_add_fwd(const Op& op, BatchCtx& c, std::size_t B) {
  const std::size_t n = c.n(op.in[0]), L = c.n(op.out);
  const int32_t* ix = c.index(op.idx[0]);
  const double* a = c.v(op.in[0]);
  double* o = c.out(op.out);
  std::fill(o, o + L * B, 0.0);
  auto add = [B](double* dst, const double* src) {
    BRR_IVDEP for (std::size_t b = 0; b < B; ++b) dst[b] += src[b];
  };
  if (!split_pays(L, n)) {
    for (std::size_t i = 0; i < n; ++i) add(o + static_cast<std::size_t>(ix[i]) * B, a + i * B);
    return;
  }
  // split_scatter_rows' four copies, lane by lane
  double* acc = c.scratch(4 * L * B);
  std::fill(acc, acc + 4 * L * B, 0.0);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (std::size_t q = 0; q < 4; ++q) add(acc + (q * L + static_cast<std::size_t>(ix[i + q])) * B, a + (i + q) * B);
  for (; i < n; ++i) add(acc + static_cast<std::size_t>(ix[i]) * B, a + i * B);
  for (std::size_t k = 0; k < L * B; ++k)
    o[k] += (acc[k] + acc[L * B + k]) + (acc[2 * L * B + k] + acc[3 * L * B + k]);
}

void icar_fwd(const Op& op, BatchCtx& c, std::size_t B) {
  const std::size_t m = c.index_len(op.idx[0]);
  const double* phi = c.v(op.in[0]);
  double* pa = c.a(op.in[0]);
  const int32_t* i1 = c.index(op.idx[0]);
  const int32_t* i2 = c.index(op.idx[1]);
  double* lp = c.scratch(B);
  std::fill(lp, lp + B, 0.0);
  // One lane loop per edge: each lane's updates keep the scalar kernel's order (a1 before a2, which
  // matters only on a self-loop), and lanes never touch each other's elements.
  for (std::size_t e = 0; e < m; ++e) {
    const double* p1 = phi + static_cast<std::size_t>(i1[e]) * B;
    const double* p2 = phi + static_cast<std::size_t>(i2[e]) * B;
    if (pa) {
      double* a1 = pa + static_cast<std::size_t>(i1[e]) * B;
      double* a2 = pa + static_cast<std::size_t>(i2[e]) * B;
      BRR_IVDEP for (std::size_t b = 0; b < B; ++b) {
        const double db = p1[b] - p2[b];
        lp[b] += db * db;
        a1[b] -= db;
        a2[b] += db;
      }
    } else {
      BRR_IVDEP for (std::size_t b = 0; b < B; ++b) {
        const double db = p1[b] - p2[b];
        lp[b] += db * db;
      }
    }
  }
  BRR_IVDEP for (std::size_t b = 0; b < B; ++b) c.ws.target[b] += -0.5 * lp[b];
}

// ---- transforms ----

// ---- univariate densities ----

// normal_scalar_sigma (univariate.cpp) per lane; declines when some lane's sigma is not positive.
bool normal_scalar_sigma_fwd(const Op& op, BatchCtx& c, std::size_t B) {
  const std::size_t n = std::max(c.n(op.in[0]), c.n(op.in[1]));
  const Arg X = arg(c, op.in[0], n), M = arg(c, op.in[1], n), S = arg(c, op.in[2], 1);
  BRR_IVDEP for (std::size_t b = 0; b < B; ++b)
    if (!(S.p[b * S.ls] > 0)) return false;
  double* xa = c.a(op.in[0]);
  double* ma = c.a(op.in[1]);
  double* sa = c.a(op.in[2]);
  double* buf = c.scratch(13 * B);
  double *inv = buf, *s4 = buf + B, *x4 = buf + 5 * B, *m4 = buf + 9 * B;
  std::fill(s4, s4 + 12 * B, 0.0);
  BRR_IVDEP for (std::size_t b = 0; b < B; ++b) inv[b] = 1.0 / S.p[b * S.ls];
  with_strides(X.ls, M.ls, [&](auto LX, auto LM) {
    auto row = [&](std::size_t i, std::size_t l) {
      const double* x = X.p + i * X.es;
      const double* mu = M.p + i * M.es;
      double *sl = s4 + l * B, *xl = x4 + l * B, *ml = m4 + l * B;
      BRR_IVDEP for (std::size_t b = 0; b < B; ++b) {
        const double z = (x[b * LX] - mu[b * LM]) * inv[b];
        sl[b] += z * z;
        const double dz = z * inv[b];
        if (xa) {
          if (X.es) xa[i * B + b] -= dz;
          else xl[b] -= dz;
        }
        if (ma) {
          if (M.es) ma[i * B + b] += dz;
          else ml[b] += dz;
        }
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
  });
  const double nn = static_cast<double>(n), dp0 = op.dp.empty() ? 0.0 : op.dp[0];
  BRR_IVDEP for (std::size_t b = 0; b < B; ++b) {
    const double ss = (s4[b] + s4[B + b]) + (s4[2 * B + b] + s4[3 * B + b]);
    if (xa && !X.es) xa[b] += (x4[b] + x4[B + b]) + (x4[2 * B + b] + x4[3 * B + b]);
    if (ma && !M.es) ma[b] += (m4[b] + m4[B + b]) + (m4[2 * B + b] + m4[3 * B + b]);
    const double s = S.p[b * S.ls];
    if (sa) sa[b] += (ss - nn) * inv[b];
    c.ws.target[b] += dp0 - 0.5 * ss - nn * (std::log(s) + kLogSqrt2Pi);
  }
  return true;
}

// run<N> (univariate.cpp) per lane: the partials array persists across elements as it does there.
template <int N, class F>
void univariate_fwd(const Op& op, BatchCtx& c, F f, std::size_t B) {
  std::size_t n = 1;
  for (int k = 0; k < N; ++k) n = std::max(n, c.n(op.in[k]));
  Arg in[N];
  double* ad[N];
  bool any_grad = false;
  for (int k = 0; k < N; ++k) {
    in[k] = arg(c, op.in[k], n);
    ad[k] = c.a(op.in[k]);
    any_grad |= ad[k] != nullptr;
  }
  double* buf = c.scratch((2 * N + 1) * B);
  double *lp = buf, *dl = buf + B, *acc = buf + (N + 1) * B;  // dl: lane b's partials at dl + b N
  std::fill(lp, lp + B, op.dp.empty() ? 0.0 : op.dp[0]);
  std::fill(dl, dl + 2 * N * B, 0.0);
  double p[N];
  for (std::size_t i = 0; i < n; ++i)
    BRR_IVDEP for (std::size_t b = 0; b < B; ++b) {
      for (int k = 0; k < N; ++k) p[k] = in[k].p[i * in[k].es + b * in[k].ls];
      double* d = dl + b * N;
      lp[b] += f(p, d);
      if (any_grad)
        for (int k = 0; k < N; ++k)
          if (ad[k]) {
            if (in[k].es) ad[k][i * B + b] += d[k];
            else acc[k * B + b] += d[k];
          }
    }
  for (int k = 0; k < N; ++k)
    if (ad[k] && !in[k].es)
      BRR_IVDEP for (std::size_t b = 0; b < B; ++b) ad[k][b] += acc[k * B + b];
  BRR_IVDEP for (std::size_t b = 0; b < B; ++b) c.ws.target[b] += lp[b];
}

// ---- the fused GLM (density/glm.cpp), families 0-3, one chunk of rows ----

constexpr std::size_t kGlmBlock = 1024;  // glm.cpp's kBlock: lp is summed per block of rows
constexpr std::size_t kLaneTile = 8;     // lanes per pass: keeps a block's buffers in cache

struct BTerm {
  int64_t kind = 0;
  const double* v = nullptr;  // lane-varying values (interleaved) or shared ones
  bool varies = false;
  double* va = nullptr;
  const int32_t* ix = nullptr;
  const double* d = nullptr;  // shared data multiplier or nullptr
  std::size_t L = 0;
  const double* s = nullptr;  // kind 3 (s * v[i]): the scalar, per lane (s_ls = 1) or shared (0)
  std::size_t s_ls = 0;
  double* sa = nullptr;
  // lane l's value of row r / its scalar
  double at(std::size_t r, std::size_t B, std::size_t l) const { return varies ? v[r * B + l] : v[r]; }
  double scale(std::size_t l) const { return s[l * s_ls]; }
};

bool glm_supported(const Op& op, const Program& p) {
  const int64_t fam = op.ip[0];
  if (fam < 0 || fam > 3) return false;
  auto constant = [&](int64_t pos) { return pos < 0 || p.slot(op.in[static_cast<std::size_t>(pos)]).constant; };
  // the normal's sigma (aux) may be a parameter: one value per lane
  if (!constant(op.ip[1]) || (fam != 3 && !constant(op.ip[2])) || !constant(op.ip[3])) return false;
  if (fam == 3 && (op.ip[2] < 0 || p.slot(op.in[static_cast<std::size_t>(op.ip[2])]).size != 1)) return false;
  if (glm_chunks(p.slot(op.in[static_cast<std::size_t>(op.ip[1])]).size) != 1) return false;
  for (std::size_t q = kGlmHeader; q < op.ip.size(); q += 4)
    if (!constant(op.ip[q + 3])) return false;
  return true;
}

// Returns false (the call runs lane by lane) when a lane's normal sigma is not positive, where the
// scalar kernel returns -inf without any partials.
bool glm_fwd(const Op& op, BatchCtx& c, std::size_t B) {
  const int64_t fam = op.ip[0];
  const int y_slot = op.in[static_cast<std::size_t>(op.ip[1])];
  const double* y = c.v(y_slot);
  const std::size_t n = c.n(y_slot);
  const int aux_slot = op.ip[2] >= 0 ? op.in[static_cast<std::size_t>(op.ip[2])] : -1;
  const double* trials = fam == 1 ? c.v(aux_slot) : nullptr;
  // normal: sigma per lane (or shared), its adjoint per lane
  const double* sig = fam == 3 ? c.v(aux_slot) : nullptr;
  const std::size_t sig_ls = fam == 3 && c.varies(aux_slot) ? 1 : 0;
  double* sig_adj = fam == 3 ? c.a(aux_slot) : nullptr;
  if (fam == 3)
    for (std::size_t b = 0; b < B; ++b)
      if (!(sig[b * sig_ls] > 0)) return false;
  const double* wt = op.ip[3] >= 0 ? c.v(op.in[static_cast<std::size_t>(op.ip[3])]) : nullptr;
  std::array<BTerm, kMaxGlmTerms> ts;
  std::size_t nt = 0, split_doubles = 0;
  for (std::size_t q = kGlmHeader; q < op.ip.size(); q += 4) {
    const int64_t kind = op.ip[q], vi = op.ip[q + 1], xi = op.ip[q + 2], di = op.ip[q + 3];
    const int vs = op.in[static_cast<std::size_t>(vi)];
    BTerm t{kind, c.v(vs), c.varies(vs), c.a(vs), kind != kTermScaled && xi >= 0 ? c.index(op.idx[static_cast<std::size_t>(xi)]) : nullptr,
            di >= 0 ? c.v(op.in[static_cast<std::size_t>(di)]) : nullptr, c.n(vs)};
    if (kind == kTermScaled) {
      const int ss = op.in[static_cast<std::size_t>(xi)];
      t.s = c.v(ss);
      t.s_ls = c.varies(ss) ? 1 : 0;
      t.sa = c.a(ss);
    }
    if (t.kind == kTermGather && t.va && split_pays(t.L, n)) split_doubles += 4 * t.L * kLaneTile;
    ts[nt++] = t;
  }
  const std::size_t LT = std::min<std::size_t>(B, kLaneTile);
  double* buf = c.scratch(4 * kGlmBlock * LT + 8 * LT + nt * LT + split_doubles);
  double *eta = buf, *g = eta + kGlmBlock * LT, *e = g + kGlmBlock * LT, *w = e + kGlmBlock * LT;
  double *acc4 = w + kGlmBlock * LT, *part = acc4 + 4 * LT, *lp = part + LT, *sums = lp + LT;
  double *aux = sums + nt * LT, *inv_var = aux + LT;  // normal: squared residuals, 1 / sigma^2
  double* split = inv_var + LT;
  auto tile = [&](std::size_t t0, std::size_t lt) {
    std::fill(lp, lp + lt, 0.0);
    std::fill(aux, aux + lt, 0.0);
    if (fam == 3)
      for (std::size_t l = 0; l < lt; ++l) {
        const double sg = sig[(t0 + l) * sig_ls];
        inv_var[l] = 1.0 / (sg * sg);
      }
    std::fill(sums, sums + nt * lt, 0.0);
    std::array<double*, kMaxGlmTerms> acc{};
    double* sp = split;
    for (std::size_t k = 0; k < nt; ++k)
      if (ts[k].kind == kTermGather && ts[k].va && split_pays(ts[k].L, n)) {
        acc[k] = sp;
        std::fill(sp, sp + 4 * ts[k].L * lt, 0.0);
        sp += 4 * ts[k].L * lt;
      }
    for (std::size_t b0 = 0; b0 < n; b0 += kGlmBlock) {
      const std::size_t m = std::min(kGlmBlock, n - b0), M = m * lt;
      std::fill(eta, eta + M, 0.0);
      for (std::size_t k = 0; k < nt; ++k) {  // add_term_rows, lane by lane
        const BTerm& t = ts[k];
        const double* d = t.d ? t.d + b0 : nullptr;
        if (t.kind == kTermScaled) {  // d[i] * (s * v[i]) or s * v[i]
          for (std::size_t i = 0; i < m; ++i) {
            double* et = eta + i * lt;
            if (d) {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) et[l] += d[i] * (t.scale(t0 + l) * t.at(b0 + i, B, t0 + l));
            } else {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) et[l] += t.scale(t0 + l) * t.at(b0 + i, B, t0 + l);
            }
          }
          continue;
        }
        for (std::size_t i = 0; i < m; ++i) {
          double* et = eta + i * lt;
          const double di = d ? d[i] : 0.0;
          const double* src;
          if (t.kind == kTermGather) src = t.v + (t.varies ? static_cast<std::size_t>(t.ix[b0 + i]) * B + t0 : static_cast<std::size_t>(t.ix[b0 + i]));
          else if (t.kind == kTermScalar) src = t.v + (t.varies ? t0 : 0);
          else src = t.v + (t.varies ? (b0 + i) * B + t0 : b0 + i);
          if (t.varies && d) {
            BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) et[l] += di * src[l];
          } else if (t.varies) {
            BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) et[l] += src[l];
          } else {
            const double sv = d ? di * src[0] : src[0];  // shared by every lane
            BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) et[l] += sv;
          }
        }
      }
      const double* yb = y + b0;
      if (fam == 3) {
        if (wt) {
          for (std::size_t i = 0; i < m; ++i)
            BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) {
              const std::size_t k = i * lt + l;
              const double r = yb[i] - eta[k];
              w[k] = wt[b0 + i] * r * r;
              g[k] = wt[b0 + i] * r * inv_var[l];
            }
          lane_sums(m, lt, acc4, [w, lt](std::size_t i, std::size_t l) { return w[i * lt + l]; }, part);
        } else {
          for (std::size_t i = 0; i < m; ++i)
            BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) {
              const std::size_t k = i * lt + l;
              w[k] = yb[i] - eta[k];
              g[k] = w[k] * inv_var[l];
            }
          lane_sums(m, lt, acc4, [w, lt](std::size_t i, std::size_t l) { return w[i * lt + l] * w[i * lt + l]; }, part);
        }
        BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) aux[l] += part[l];
      } else if (fam == 2) {
        vec_exp(eta, e, M);
        if (wt)
          for (std::size_t i = 0; i < m; ++i)
            BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) e[i * lt + l] *= wt[b0 + i];
        for (std::size_t i = 0; i < m; ++i)
          BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) {
            const std::size_t k = i * lt + l;
            w[k] = yb[i] * eta[k] - e[k];
            g[k] = yb[i] - e[k];
          }
      } else {
        for (std::size_t k = 0; k < M; ++k) w[k] = -std::fabs(eta[k]);
        vec_exp(w, e, M);
        vec_log1p(e, w, M);
        for (std::size_t i = 0; i < m; ++i) {
          const double nr = fam == 1 ? trials[b0 + i] : 1.0;
          BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) {
            const std::size_t k = i * lt + l;
            const double r = 1.0 / (1.0 + e[k]);
            const double spl = std::max(eta[k], 0.0) + w[k];
            const double sg = (eta[k] >= 0 ? 1.0 : e[k]) * r;
            w[k] = yb[i] * eta[k] - nr * spl;
            g[k] = yb[i] - nr * sg;
          }
        }
      }
      if (fam != 3) {
        lane_sums(m, lt, acc4, [w, lt](std::size_t i, std::size_t l) { return w[i * lt + l]; }, part);
        BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) lp[l] += part[l];
      }
      for (std::size_t k = 0; k < nt; ++k) {
        const BTerm& t = ts[k];
        const double* d = t.d ? t.d + b0 : nullptr;
        if (t.kind == kTermScaled) {  // scaled_adjoint_rows: the vector's adjoint in place, the scalar's summed
          if (t.va)
            for (std::size_t i = 0; i < m; ++i) {
              double* dst = t.va + (b0 + i) * B + t0;
              const double* gi = g + i * lt;
              if (d) {
                BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += t.scale(t0 + l) * (d[i] * gi[l]);
              } else {
                BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += t.scale(t0 + l) * gi[l];
              }
            }
          if (t.sa) {
            if (d)
              lane_sums(m, lt, acc4, [&t, g, d, lt, b0, B, t0](std::size_t i, std::size_t l) {
                return t.at(b0 + i, B, t0 + l) * (d[i] * g[i * lt + l]); }, part);
            else
              lane_sums(m, lt, acc4, [&t, g, lt, b0, B, t0](std::size_t i, std::size_t l) {
                return t.at(b0 + i, B, t0 + l) * g[i * lt + l]; }, part);
            BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) sums[k * lt + l] += part[l];
          }
          continue;
        }
        if (!t.va) continue;
        if (t.kind == kTermGather && acc[k]) {  // split_scatter_rows: row i of the block to copy i mod 4
          const int32_t* ix = t.ix + b0;
          std::size_t i = 0;
          auto put = [&](std::size_t i, std::size_t q) {
            double* dst = acc[k] + (q * t.L + static_cast<std::size_t>(ix[i])) * lt;
            const double* gi = g + i * lt;
            if (d) {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += d[i] * gi[l];
            } else {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += gi[l];
            }
          };
          for (; i + 4 <= m; i += 4)
            for (std::size_t q = 0; q < 4; ++q) put(i + q, q);
          for (; i < m; ++i) put(i, 0);
        } else if (t.kind == kTermGather) {
          for (std::size_t i = 0; i < m; ++i) {
            double* dst = t.va + static_cast<std::size_t>(t.ix[b0 + i]) * B + t0;
            const double* gi = g + i * lt;
            if (d) {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += d[i] * gi[l];
            } else {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += gi[l];
            }
          }
        } else if (t.kind == kTermScalar) {
          if (d) lane_sums(m, lt, acc4, [g, d, lt](std::size_t i, std::size_t l) { return d[i] * g[i * lt + l]; }, part);
          else lane_sums(m, lt, acc4, [g, lt](std::size_t i, std::size_t l) { return g[i * lt + l]; }, part);
          BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) sums[k * lt + l] += part[l];
        } else {
          for (std::size_t i = 0; i < m; ++i) {
            double* dst = t.va + (b0 + i) * B + t0;
            const double* gi = g + i * lt;
            if (d) {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += d[i] * gi[l];
            } else {
              BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) dst[l] += gi[l];
            }
          }
        }
      }
    }
    for (std::size_t k = 0; k < nt; ++k) {  // fold_split
      if (!acc[k]) continue;
      const std::size_t L = ts[k].L;
      const double* a = acc[k];
      for (std::size_t j = 0; j < L; ++j)
        BRR_IVDEP for (std::size_t l = 0; l < lt; ++l)
          ts[k].va[j * B + t0 + l] += (a[j * lt + l] + a[(L + j) * lt + l]) + (a[(2 * L + j) * lt + l] + a[(3 * L + j) * lt + l]);
    }
    // glm_lpdf's closing: lp += dp[0], then the normal's sigma terms (its adjoint before the scalar terms')
    const double dp0 = op.dp.empty() ? 0.0 : op.dp[0];
    BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) lp[l] += dp0;
    if (fam == 3) {
      const double nn = op.dp.size() > 2 ? op.dp[2] : static_cast<double>(n);
      for (std::size_t l = 0; l < lt; ++l) {
        const double sg = sig[(t0 + l) * sig_ls];
        if (op.dp.size() > 2) aux[l] += op.dp[1];
        lp[l] += -0.5 * aux[l] * inv_var[l] - nn * (std::log(sg) + kLogSqrt2Pi);
        if (sig_adj) sig_adj[(t0 + l) * sig_ls] += (aux[l] * inv_var[l] - nn) / sg;
      }
    }
    BRR_IVDEP for (std::size_t l = 0; l < lt; ++l) {
      for (std::size_t k = 0; k < nt; ++k)
        if (ts[k].kind == kTermScalar && ts[k].va) ts[k].va[t0 + l] += sums[k * lt + l];
        else if (ts[k].kind == kTermScaled && ts[k].sa) ts[k].sa[(t0 + l) * ts[k].s_ls] += sums[k * lt + l];
      c.ws.target[t0 + l] += lp[l];
    }
  };
  if (B == LT) {
    tile(0, B);
  } else {
    for (std::size_t t0 = 0; t0 < B; t0 += LT) tile(t0, std::min(LT, B - t0));
  }
  return true;
}

}  // namespace

bool batch_supported(const Op& op, const Program& p) {
  auto varies = [&](std::size_t k) { return !p.slot(op.in[k]).constant; };
  bool runs = false;
  if (ops::with_spec(op.code, [&](auto spec) { runs = decltype(spec)::on_lanes(op, p); })) return runs;
  if (is_unary(op.code)) return varies(0);
  if (is_binary(op.code)) return true;
  if (is_univariate(op.code)) return true;
  switch (op.code) {
    case OpCode::Gather: return op.in.size() == 1;
    case OpCode::ScatterAdd:
    case OpCode::IcarPairwiseLpdf: return op.in.size() == 1 && varies(0);
    case OpCode::GlmLpdf: return glm_supported(op, p);
    default: return false;
  }
}

namespace {

bool forward_lanes(const Op& op, BatchCtx& c, std::size_t B) {
  HostView<BatchCtx> x{c, B};
  if (ops::with_spec(op.code, [&](auto spec) { decltype(spec)::forward(op, x); })) return true;
  if (is_unary(op.code)) {
    ops::unary_map(op.code, c.v(op.in[0]), c.out(op.out), c.n(op.out) * B);
    return true;
  }
  if (is_binary(op.code)) return binary_fwd(op, c, B), true;
  if (op.code == OpCode::NormalLpdf && c.n(op.in[2]) == 1) return normal_scalar_sigma_fwd(op, c, B);
  if (terms::with_kernel(op.code, [&](auto arity, auto f) { univariate_fwd<decltype(arity)::value>(op, c, f, B); }))
    return true;
  switch (op.code) {
    case OpCode::Gather: gather_fwd(op, c, B); return true;
    case OpCode::ScatterAdd: scatter_add_fwd(op, c, B); return true;
    case OpCode::IcarPairwiseLpdf: icar_fwd(op, c, B); return true;
    case OpCode::GlmLpdf: return glm_fwd(op, c, B);
    default: return false;
  }
}

void backward_lanes(const Op& op, BatchCtx& c, std::size_t B) {
  HostView<BatchCtx> x{c, B};
  if (ops::with_spec(op.code, [&](auto spec) { decltype(spec)::backward(op, x); })) return;
  if (is_unary(op.code)) {
    if (double* aa = c.a(op.in[0])) ops::unary_back(op.code, c.v(op.in[0]), c.v(op.out), c.a(op.out), aa, c.n(op.out) * B);
    return;
  }
  if (is_binary(op.code)) return binary_bwd(op, c, B);
  double* aa = c.a(op.in.back());
  if (!aa) return;
  switch (op.code) {
    case OpCode::Gather: {
      const int32_t* ix = c.index(op.idx[0]);
      const double* oa = c.a(op.out);
      for (std::size_t i = 0; i < c.n(op.out); ++i) {
        double* dst = aa + static_cast<std::size_t>(ix[i]) * B;
        BRR_IVDEP for (std::size_t b = 0; b < B; ++b) dst[b] += oa[i * B + b];
      }
      return;
    }
    case OpCode::ScatterAdd: {
      const int32_t* ix = c.index(op.idx[0]);
      const double* oa = c.a(op.out);
      for (std::size_t i = 0; i < c.n(op.in[0]); ++i) {
        const double* src = oa + static_cast<std::size_t>(ix[i]) * B;
        BRR_IVDEP for (std::size_t b = 0; b < B; ++b) aa[i * B + b] += src[b];
      }
      return;
    }
    default:
      return;  // densities: partials were added going forward
  }
}

}  // namespace

bool batch_forward(const Op& op, BatchCtx& c) {
  return forward_lanes(op, c, c.B);
}

void batch_backward(const Op& op, BatchCtx& c) {
  backward_lanes(op, c, c.B);
}

}  // namespace brr::ad
