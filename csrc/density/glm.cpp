// GlmLpdf: a GLM likelihood and its linear predictor in one pass over the rows.
// Per block of rows: eta from the terms (gathered effects, scalars, columns, each optionally times a
// data column), the likelihood value and d/d eta, then each term's adjoint (scatter-add for gathers).
// eta and its adjoint never leave a stack buffer. Accumulation runs in a fixed row order, so the
// result does not depend on anything but the data.
//
// ip: [family, y input, aux input (-1: none), then 4 ints per term as LinearPredictor]
// family 0 Bernoulli-logit, 1 Binomial-logit (aux: trials), 2 Poisson-log, 3 Normal (aux: scalar sigma)
#include <algorithm>
#include <array>
#include <cmath>

#include "ad/scalar_math.hpp"
#include "density/density_kernels.hpp"

namespace brr::ad {

namespace {

constexpr std::size_t kBlock = 1024;

struct Term {
  int64_t kind = 0;             // 0 gather, 1 scalar, 2 dense
  const double* v = nullptr;    // values
  double* va = nullptr;         // their adjoint, or nullptr
  const int32_t* ix = nullptr;  // gather index
  const double* d = nullptr;    // optional data multiplier
  std::size_t L = 0;            // number of values
  double* acc = nullptr;        // 4 interleaved scatter accumulators (gathers)
  double sum = 0.0;             // adjoint sum (scalars)
};

void block_eta(const std::array<Term, kMaxGlmTerms>& terms, std::size_t nt, std::size_t b0, std::size_t m,
               double* eta) {
  std::fill(eta, eta + m, 0.0);
  for (std::size_t k = 0; k < nt; ++k) {
    const Term& t = terms[k];
    const double* d = t.d ? t.d + b0 : nullptr;
    if (t.kind == 0) {
      const int32_t* ix = t.ix + b0;
      if (d) for (std::size_t i = 0; i < m; ++i) eta[i] += d[i] * t.v[ix[i]];
      else for (std::size_t i = 0; i < m; ++i) eta[i] += t.v[ix[i]];
    } else if (t.kind == 1) {
      const double s = t.v[0];
      if (d) for (std::size_t i = 0; i < m; ++i) eta[i] += d[i] * s;
      else for (std::size_t i = 0; i < m; ++i) eta[i] += s;
    } else {
      const double* v = t.v + b0;
      if (d) for (std::size_t i = 0; i < m; ++i) eta[i] += d[i] * v[i];
      else for (std::size_t i = 0; i < m; ++i) eta[i] += v[i];
    }
  }
}

void block_adjoint(std::array<Term, kMaxGlmTerms>& terms, std::size_t nt, std::size_t b0, std::size_t m,
                   const double* g) {
  for (std::size_t k = 0; k < nt; ++k) {
    Term& t = terms[k];
    if (!t.va) continue;
    const double* d = t.d ? t.d + b0 : nullptr;
    if (t.kind == 0) {
      // four interleaved copies: consecutive rows of one group update different memory
      const int32_t* ix = t.ix + b0;
      double* a0 = t.acc;
      double* a1 = t.acc + t.L;
      double* a2 = t.acc + 2 * t.L;
      double* a3 = t.acc + 3 * t.L;
      std::size_t i = 0;
      for (; i + 4 <= m; i += 4) {
        a0[ix[i]] += d ? d[i] * g[i] : g[i];
        a1[ix[i + 1]] += d ? d[i + 1] * g[i + 1] : g[i + 1];
        a2[ix[i + 2]] += d ? d[i + 2] * g[i + 2] : g[i + 2];
        a3[ix[i + 3]] += d ? d[i + 3] * g[i + 3] : g[i + 3];
      }
      for (; i < m; ++i) a0[ix[i]] += d ? d[i] * g[i] : g[i];
    } else if (t.kind == 1) {
      double s = 0.0;
      if (d) for (std::size_t i = 0; i < m; ++i) s += d[i] * g[i];
      else for (std::size_t i = 0; i < m; ++i) s += g[i];
      t.sum += s;
    } else {
      double* va = t.va + b0;
      if (d) for (std::size_t i = 0; i < m; ++i) va[i] += d[i] * g[i];
      else for (std::size_t i = 0; i < m; ++i) va[i] += g[i];
    }
  }
}

void glm_lpdf(const Op& op, Ctx& c) {
  const int64_t family = op.ip[0];
  const int y_slot = op.in[op.ip[1]];
  const double* y = c.v(y_slot);
  const std::size_t n = c.n(y_slot);
  const double* aux = op.ip[2] >= 0 ? c.v(op.in[op.ip[2]]) : nullptr;
  double* aux_adj = op.ip[2] >= 0 ? c.a(op.in[op.ip[2]]) : nullptr;
  const bool grad = c.want_grad;

  std::array<Term, kMaxGlmTerms> terms;
  std::size_t nt = 0;
  double* scratch = c.ws.scratch.data();
  for (std::size_t q = 3; q < op.ip.size(); q += 4, ++nt) {
    const int64_t kind = op.ip[q], vi = op.ip[q + 1], xi = op.ip[q + 2], di = op.ip[q + 3];
    Term& t = terms[nt];
    t.kind = kind;
    t.v = c.v(op.in[vi]);
    t.va = grad ? c.a(op.in[vi]) : nullptr;
    t.ix = xi >= 0 ? c.index(op.idx[xi]) : nullptr;
    t.d = di >= 0 ? c.v(op.in[di]) : nullptr;
    t.L = c.n(op.in[vi]);
    t.sum = 0.0;
    if (kind == 0 && t.va) {
      t.acc = scratch;
      std::fill(scratch, scratch + 4 * t.L, 0.0);
      scratch += 4 * t.L;
    }
  }

  double sigma = 1.0, inv_var = 1.0;
  if (family == 3) {
    sigma = aux[0];
    if (!(sigma > 0)) {
      c.target += -kInf;
      return;
    }
    inv_var = 1.0 / (sigma * sigma);
  }
  double lp = op.dp.empty() ? 0.0 : op.dp[0];
  double ss = 0.0;  // Normal: sum of squared residuals
  double eta[kBlock], g[kBlock];
  for (std::size_t b0 = 0; b0 < n; b0 += kBlock) {
    const std::size_t m = std::min(kBlock, n - b0);
    block_eta(terms, nt, b0, m, eta);
    const double* yb = y + b0;
    switch (family) {
      case 0:
        for (std::size_t i = 0; i < m; ++i) {
          double sp, sg;
          softplus_and_sigmoid(eta[i], sp, sg);
          lp += yb[i] * eta[i] - sp;
          g[i] = yb[i] - sg;
        }
        break;
      case 1: {
        const double* nb = aux + b0;
        for (std::size_t i = 0; i < m; ++i) {
          double sp, sg;
          softplus_and_sigmoid(eta[i], sp, sg);
          lp += yb[i] * eta[i] - nb[i] * sp;
          g[i] = yb[i] - nb[i] * sg;
        }
        break;
      }
      case 2:
        for (std::size_t i = 0; i < m; ++i) {
          const double mu = std::exp(eta[i]);
          lp += yb[i] * eta[i] - mu;
          g[i] = yb[i] - mu;
        }
        break;
      default:
        for (std::size_t i = 0; i < m; ++i) {
          const double r = yb[i] - eta[i];
          ss += r * r;
          g[i] = r * inv_var;
        }
        break;
    }
    if (grad) block_adjoint(terms, nt, b0, m, g);
  }
  if (family == 3) {
    const double nn = static_cast<double>(n);
    lp += -0.5 * ss * inv_var - nn * (std::log(sigma) + kLogSqrt2Pi);
    if (grad && aux_adj) aux_adj[0] += (ss * inv_var - nn) / sigma;
  }
  if (grad)
    for (std::size_t k = 0; k < nt; ++k) {
      Term& t = terms[k];
      if (!t.va) continue;
      if (t.kind == 0)
        for (std::size_t j = 0; j < t.L; ++j)
          t.va[j] += (t.acc[j] + t.acc[t.L + j]) + (t.acc[2 * t.L + j] + t.acc[3 * t.L + j]);
      else if (t.kind == 1)
        t.va[0] += t.sum;
    }
  c.target += lp;
}

}  // namespace

bool glm_density(const Op& op, Ctx& c) {
  if (op.code != OpCode::GlmLpdf) return false;
  glm_lpdf(op, c);
  return true;
}

}  // namespace brr::ad
