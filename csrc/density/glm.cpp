// GlmLpdf: a GLM likelihood and its linear predictor in one pass over the rows.
// Per block of rows: eta from the terms (gathered effects, scalars, columns, each optionally times a
// data column), the likelihood value and d/d eta, then each term's adjoint (scatter-add for gathers).
// eta and its adjoint never leave a stack buffer. Above kGlmChunkRows rows, chunks of rows run on the
// workspace's row threads, each into its own partial sums, which are reduced in chunk order: the result
// depends on the data alone, not on the number of threads.
//
// ip: [family, y input, aux input (-1: none), then 4 ints per term as LinearPredictor]
// family 0 Bernoulli-logit, 1 Binomial-logit (aux: trials), 2 Poisson-log, 3 Normal (aux: scalar sigma),
// 4 NegativeBinomial-log (aux: scalar phi)
#include <algorithm>
#include <array>
#include <cmath>

#include "ad/linpred_terms.hpp"
#include "ad/scalar_math.hpp"
#include "density/density_kernels.hpp"

namespace brr::ad {

namespace {

constexpr std::size_t kBlock = 1024;

// What every row range of one evaluation shares.
struct Glm {
  int64_t family = 0;
  const double* y = nullptr;
  const double* aux = nullptr;  // binomial trials
  double inv_var = 1.0;         // normal: 1 / sigma^2
  double phi = 1.0, log_phi = 0.0;  // negative binomial
  std::size_t nt = 0;
};

// Rows [r0, r1): adds the log-likelihood to lp (normal: squared residuals to aux_sum; negative binomial:
// the rows' part of d/d phi to aux_sum), scalar terms' adjoint
// sums to sums[k], gathers' adjoints to terms[k].va (through four split copies in `split` when they
// pay) and dense terms' adjoints to their rows. Rows are visited in order, so the sums are fixed.
void glm_rows(const Glm& glm, const LinTerm* terms, std::size_t r0, std::size_t r1, double* split, double& lp,
              double& aux_sum, double* sums) {
  std::array<double*, kMaxGlmTerms> acc{};
  for (std::size_t k = 0; k < glm.nt; ++k) {
    const LinTerm& t = terms[k];
    if (t.kind == 0 && t.va && split_pays(t.L, r1 - r0)) {
      acc[k] = split;
      std::fill(split, split + 4 * t.L, 0.0);
      split += 4 * t.L;
    }
  }
  double eta[kBlock], g[kBlock];
  for (std::size_t b0 = r0; b0 < r1; b0 += kBlock) {
    const std::size_t m = std::min(kBlock, r1 - b0);
    std::fill(eta, eta + m, 0.0);
    for (std::size_t k = 0; k < glm.nt; ++k) add_term_rows(terms[k], b0, m, eta);
    const double* yb = glm.y + b0;
    switch (glm.family) {
      case 0:
        for (std::size_t i = 0; i < m; ++i) {
          double sp, sg;
          softplus_and_sigmoid(eta[i], sp, sg);
          lp += yb[i] * eta[i] - sp;
          g[i] = yb[i] - sg;
        }
        break;
      case 1: {
        const double* nb = glm.aux + b0;
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
      case 3:
        for (std::size_t i = 0; i < m; ++i) {
          const double r = yb[i] - eta[i];
          aux_sum += r * r;
          g[i] = r * glm.inv_var;
        }
        break;
      case 4: {
        // lgamma(y + phi) + phi (log phi - log(mu + phi)) + y (eta - log(mu + phi)); -lgamma(phi) per row
        // and -log y! are added once by the caller
        const double phi = glm.phi, lphi = glm.log_phi;
        for (std::size_t i = 0; i < m; ++i) {
          const double e = eta[i], y = yb[i];
          const double lmp = log_add_exp(e, lphi);  // log(mu + phi)
          const double r = std::exp(e - lmp);  // mu / (mu + phi)
          lp += std::lgamma(y + phi) + phi * (lphi - lmp) + y * (e - lmp);
          g[i] = y - (y + phi) * r;
          aux_sum += digamma(y + phi) + lphi + 1.0 - lmp - (phi + y) * std::exp(-lmp);
        }
        break;
      }
    }
    for (std::size_t k = 0; k < glm.nt; ++k) {
      const LinTerm& t = terms[k];
      if (!t.va) continue;
      if (t.kind == 0 && acc[k]) split_scatter_rows(t, b0, m, g, acc[k]);
      else if (t.kind == 0) scatter_rows(t, b0, m, g);
      else if (t.kind == 1) sums[k] += scalar_adjoint_rows(t, b0, m, g);
      else dense_adjoint_rows(t, b0, m, g);
    }
  }
  for (std::size_t k = 0; k < glm.nt; ++k)
    if (acc[k]) fold_split(acc[k], terms[k].L, terms[k].va);
}

void glm_lpdf(const Op& op, Ctx& c) {
  Glm glm;
  glm.family = op.ip[0];
  const int y_slot = op.in[op.ip[1]];
  glm.y = c.v(y_slot);
  const std::size_t n = c.n(y_slot);
  const double* aux = op.ip[2] >= 0 ? c.v(op.in[op.ip[2]]) : nullptr;
  double* aux_adj = op.ip[2] >= 0 ? c.a(op.in[op.ip[2]]) : nullptr;
  glm.aux = aux;

  std::array<LinTerm, kMaxGlmTerms> terms;
  std::size_t gathered = 0;  // adjoint doubles of the gather terms
  for (std::size_t q = 3; q < op.ip.size(); q += 4, ++glm.nt) {
    LinTerm& t = terms[glm.nt] = read_term(op, c, q);
    if (!c.want_grad) t.va = nullptr;
    if (t.kind == 0 && t.va) gathered += t.L;
  }
  double sigma = 1.0;
  if (glm.family == 3) {
    sigma = aux[0];
    if (!(sigma > 0)) {
      c.target += -kInf;
      return;
    }
    glm.inv_var = 1.0 / (sigma * sigma);
  } else if (glm.family == 4) {
    glm.phi = aux[0];
    if (!(glm.phi > 0)) {
      c.target += -kInf;
      return;
    }
    glm.log_phi = std::log(glm.phi);
  }

  double lp = 0.0, aux_sum = 0.0;  // aux_sum: normal: squared residuals; negative binomial: rows' d/d phi
  std::array<double, kMaxGlmTerms> sums{};
  const std::size_t chunks = glm_chunks(n);
  if (chunks == 1) {
    glm_rows(glm, terms.data(), 0, n, c.ws.worker_scratch[0].data(), lp, aux_sum, sums.data());
  } else {
    // each chunk: [lp, aux_sum, scalar sums (nt), gather adjoints (gathered)], reduced in chunk order below
    const std::size_t stride = 2 + glm.nt + gathered;
    double* parts = c.ws.scratch.data();
    auto chunk = [&](std::size_t k, int worker) {
      double* part = parts + k * stride;
      std::fill(part, part + stride, 0.0);
      std::array<LinTerm, kMaxGlmTerms> local = terms;
      double* gat = part + 2 + glm.nt;
      for (std::size_t q = 0; q < glm.nt; ++q)
        if (local[q].kind == 0 && local[q].va) {
          local[q].va = gat;
          gat += local[q].L;
        }
      const std::size_t r0 = k * kGlmChunkRows;
      glm_rows(glm, local.data(), r0, std::min(n, r0 + kGlmChunkRows), c.ws.worker_scratch[worker].data(), part[0],
               part[1], part + 2);
    };
    if (c.ws.pool) c.ws.pool->run(chunks, chunk);
    else for (std::size_t k = 0; k < chunks; ++k) chunk(k, 0);
    for (std::size_t k = 0; k < chunks; ++k) {
      const double* part = parts + k * stride;
      lp += part[0];
      aux_sum += part[1];
      for (std::size_t q = 0; q < glm.nt; ++q) sums[q] += part[2 + q];
      const double* gat = part + 2 + glm.nt;
      for (std::size_t q = 0; q < glm.nt; ++q)
        if (terms[q].kind == 0 && terms[q].va) {
          for (std::size_t j = 0; j < terms[q].L; ++j) terms[q].va[j] += gat[j];
          gat += terms[q].L;
        }
    }
  }
  lp += op.dp.empty() ? 0.0 : op.dp[0];
  if (glm.family == 3) {
    const double nn = static_cast<double>(n);
    lp += -0.5 * aux_sum * glm.inv_var - nn * (std::log(sigma) + kLogSqrt2Pi);
    if (aux_adj) aux_adj[0] += (aux_sum * glm.inv_var - nn) / sigma;
  } else if (glm.family == 4) {
    const double nn = static_cast<double>(n);
    lp -= nn * std::lgamma(glm.phi);
    if (aux_adj) aux_adj[0] += aux_sum - nn * digamma(glm.phi);
  }
  for (std::size_t q = 0; q < glm.nt; ++q)
    if (terms[q].kind == 1 && terms[q].va) terms[q].va[0] += sums[q];
  c.target += lp;
}

}  // namespace

bool glm_density(const Op& op, Ctx& c) {
  if (op.code != OpCode::GlmLpdf) return false;
  glm_lpdf(op, c);
  return true;
}

}  // namespace brr::ad
