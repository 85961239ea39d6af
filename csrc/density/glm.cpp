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

#include "ad/linpred_terms.hpp"
#include "ad/scalar_math.hpp"
#include "density/density_kernels.hpp"

namespace brr::ad {

namespace {

constexpr std::size_t kBlock = 1024;

void glm_lpdf(const Op& op, Ctx& c) {
  const int64_t family = op.ip[0];
  const int y_slot = op.in[op.ip[1]];
  const double* y = c.v(y_slot);
  const std::size_t n = c.n(y_slot);
  const double* aux = op.ip[2] >= 0 ? c.v(op.in[op.ip[2]]) : nullptr;
  double* aux_adj = op.ip[2] >= 0 ? c.a(op.in[op.ip[2]]) : nullptr;
  const bool grad = c.want_grad;

  std::array<LinTerm, kMaxGlmTerms> terms;
  std::array<double*, kMaxGlmTerms> acc{};   // gathers: 4 interleaved scatter accumulators, or none
  std::array<double, kMaxGlmTerms> sums{};   // scalars: adjoint sums
  std::size_t nt = 0;
  double* scratch = c.ws.scratch.data();
  for (std::size_t q = 3; q < op.ip.size(); q += 4, ++nt) {
    LinTerm& t = terms[nt] = read_term(op, c, q);
    if (!grad) t.va = nullptr;
    if (t.kind == 0 && t.va && split_pays(t.L, n)) {
      acc[nt] = scratch;
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
    std::fill(eta, eta + m, 0.0);
    for (std::size_t k = 0; k < nt; ++k) add_term_rows(terms[k], b0, m, eta);
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
    if (grad)
      for (std::size_t k = 0; k < nt; ++k) {
        const LinTerm& t = terms[k];
        if (!t.va) continue;
        if (t.kind == 0 && acc[k]) split_scatter_rows(t, b0, m, g, acc[k]);
        else if (t.kind == 0) scatter_rows(t, b0, m, g);
        else if (t.kind == 1) sums[k] += scalar_adjoint_rows(t, b0, m, g);
        else dense_adjoint_rows(t, b0, m, g);
      }
  }
  if (family == 3) {
    const double nn = static_cast<double>(n);
    lp += -0.5 * ss * inv_var - nn * (std::log(sigma) + kLogSqrt2Pi);
    if (grad && aux_adj) aux_adj[0] += (ss * inv_var - nn) / sigma;
  }
  if (grad)
    for (std::size_t k = 0; k < nt; ++k) {
      const LinTerm& t = terms[k];
      if (!t.va) continue;
      if (t.kind == 0 && acc[k]) fold_split(acc[k], t.L, t.va);
      else if (t.kind == 1) t.va[0] += sums[k];
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
