// GlmLpdf: a GLM likelihood and its linear predictor in one pass over the rows.
// Per block of rows: eta from the terms (gathered effects, scalars, columns, scalars times columns,
// each optionally times a data column), the likelihood value and d/d eta, then each term's adjoint (scatter-add for gathers).
// eta and its adjoint never leave a stack buffer. Above kGlmChunkRows rows, chunks of rows run on the
// workspace's row threads, each into its own partial sums, which are reduced in chunk order: the result
// depends on the data alone, not on the number of threads.
//
// ip: [family, y input, aux input (-1: none), weight input (-1: none), then 4 ints per term as LinearPredictor]
// family 0 Bernoulli-logit, 1 Binomial-logit (aux: trials), 2 Poisson-log, 3 Normal (aux: scalar sigma),
// 4 NegativeBinomial-log (aux: scalar phi).
// Weights (per-row data) make rows stand for merged cells of equal predictors (compile/compress.py):
// Poisson: y holds summed counts, w the summed exposure, lp = y eta - w exp(eta); Normal: y holds cell
// means, w the cell counts, dp[1] the within-cell sum of squares and dp[2] the number of merged rows,
// lp = -(sum w (y - eta)^2 + dp[1]) / (2 sigma^2) - dp[2] log(sigma sqrt(2 pi)).
// dp[0]: a constant added to lp.
#include <algorithm>
#include <array>
#include <cmath>

#include "ad/linpred_terms.hpp"
#include "common/scalar_math.hpp"
#include "common/simd_clones.hpp"
#include "common/reduce.hpp"
#include "common/vec_math.hpp"
#include "density/density_kernels.hpp"
#include "density/glm_rows.hpp"
#include "ir/glm_codes.hpp"

namespace brr::ad {

namespace {

constexpr std::size_t kBlock = 1024;

// What every row range of one evaluation shares.
struct Glm {
  int64_t family = 0;
  const double* y = nullptr;
  const uint8_t* ycode = nullptr;  // y[i] == ytable[ycode[i]] (ir/narrow.hpp), read instead of y when set
  const double* ytable = nullptr;
  const double* aux = nullptr;  // binomial trials
  const double* wt = nullptr;   // Poisson exposure / Normal cell counts (nullptr: 1 per row)
  double inv_var = 1.0;         // normal: 1 / sigma^2
  double phi = 1.0, log_phi = 0.0;  // negative binomial
  std::size_t nt = 0;
};

// Rows [r0, r1): adds the log-likelihood to lp (normal: squared residuals to aux_sum; negative binomial:
// the rows' part of d/d phi to aux_sum), scalar terms' adjoint
// sums to sums[k], gathers' adjoints to terms[k].va (through four split copies in `split` when they
// pay) and dense terms' adjoints to their rows. Rows are visited in order, so the sums are fixed.
// Cloned for AVX2 (common/simd_clones.hpp): the gathers of group effects vectorise there.
BRR_AVX2_CLONES void glm_rows(const Glm& glm, const LinTerm* terms, std::size_t r0, std::size_t r1,
                              double* split, double& lp, double& aux_sum, double* sums) {
  std::array<double*, kMaxGlmTerms> acc{};
  for (std::size_t k = 0; k < glm.nt; ++k) {
    const LinTerm& t = terms[k];
    if (t.kind == kTermGather && t.va && split_pays(t.L, r1 - r0)) {
      acc[k] = split;
      std::fill(split, split + 4 * t.L, 0.0);
      split += 4 * t.L;
    }
  }
  // eta and g: the block's linear predictor and d lp / d eta; e and w: per-row work (exp, log1p, terms)
  double eta[kBlock], g[kBlock], e[kBlock], w[kBlock], yv[kBlock];
  for (std::size_t b0 = r0; b0 < r1; b0 += kBlock) {
    const std::size_t m = std::min(kBlock, r1 - b0);
    std::fill(eta, eta + m, 0.0);
    for (std::size_t k = 0; k < glm.nt; ++k) add_term_rows(terms[k], b0, m, eta);
    const double* yb = glm.y + b0;
    if (glm.ycode) {  // one byte a row from memory instead of eight
      const uint8_t* yc = glm.ycode + b0;
      for (std::size_t i = 0; i < m; ++i) yv[i] = glm.ytable[yc[i]];
      yb = yv;
    }
    switch (glm.family) {
      case kGlmBernoulli:
      case kGlmBinomial: {
        // softplus(eta) = max(eta, 0) + log1p(exp(-|eta|)) and inv_logit(eta) from the same exp(-|eta|)
        for (std::size_t i = 0; i < m; ++i) w[i] = -std::fabs(eta[i]);
        vec_exp(w, e, m);
        vec_log1p(e, w, m);
        // branch-free (the sign of eta is data-dependent), one loop per family so that it vectorises
        auto rows = [&](auto trials) {
          for (std::size_t i = 0; i < m; ++i) {
            const double r = 1.0 / (1.0 + e[i]);
            const double sp = std::max(eta[i], 0.0) + w[i];
            const double sg = (eta[i] >= 0 ? 1.0 : e[i]) * r;
            const double n = trials(i);
            w[i] = yb[i] * eta[i] - n * sp;
            g[i] = yb[i] - n * sg;
          }
        };
        if (glm.family == kGlmBinomial) {
          const double* nb = glm.aux + b0;
          rows([nb](std::size_t i) { return nb[i]; });
        } else {
          rows([](std::size_t) { return 1.0; });
        }
        lp += lane_sum(m, [&w](std::size_t i) { return w[i]; });
        break;
      }
      case kGlmPoisson:
        vec_exp(eta, e, m);
        if (glm.wt) {
          const double* wb = glm.wt + b0;
          for (std::size_t i = 0; i < m; ++i) e[i] *= wb[i];
        }
        for (std::size_t i = 0; i < m; ++i) {
          w[i] = yb[i] * eta[i] - e[i];
          g[i] = yb[i] - e[i];
        }
        lp += lane_sum(m, [&w](std::size_t i) { return w[i]; });
        break;
      case kGlmNormal:
        if (glm.wt) {
          const double* wb = glm.wt + b0;
          for (std::size_t i = 0; i < m; ++i) {
            const double r = yb[i] - eta[i];
            w[i] = wb[i] * r * r;
            g[i] = wb[i] * r * glm.inv_var;
          }
          aux_sum += lane_sum(m, [&w](std::size_t i) { return w[i]; });
          break;
        }
        for (std::size_t i = 0; i < m; ++i) {
          w[i] = yb[i] - eta[i];
          g[i] = w[i] * glm.inv_var;
        }
        aux_sum += lane_sum(m, [&w](std::size_t i) { return w[i] * w[i]; });
        break;
      case kGlmNegBin: {
        for (std::size_t i = 0; i < m; ++i) negbin_log_row(eta[i], yb[i], glm.phi, glm.log_phi, w[i], g[i], e[i]);
        lp += lane_sum(m, [&w](std::size_t i) { return w[i]; });
        aux_sum += lane_sum(m, [&e](std::size_t i) { return e[i]; });
        break;
      }
    }
    for (std::size_t k = 0; k < glm.nt; ++k) {
      const LinTerm& t = terms[k];
      if (!wants_adjoint(t)) continue;
      if (k + 1 < glm.nt && acc[k] && acc[k + 1] &&
          split_scatter_two(t, terms[k + 1], b0, m, g, acc[k], acc[k + 1])) {
        ++k;  // the next term's adjoint was taken in the same pass
        continue;
      }
      if (t.kind == kTermScaled) sums[k] += scaled_adjoint_rows(t, b0, m, g);
      else if (t.kind == kTermGather && acc[k]) split_scatter_rows(t, b0, m, g, acc[k]);
      else if (t.kind == kTermGather) scatter_rows(t, b0, m, g);
      else if (t.kind == kTermScalar) sums[k] += scalar_adjoint_rows(t, b0, m, g);
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
  if (const ir::CodedColumn* yc = c.prog.coded(y_slot)) {
    glm.ycode = yc->code.data();
    glm.ytable = yc->table.data();
  }
  const std::size_t n = c.n(y_slot);
  const double* aux = op.ip[2] >= 0 ? c.v(op.in[op.ip[2]]) : nullptr;
  double* aux_adj = op.ip[2] >= 0 ? c.a(op.in[op.ip[2]]) : nullptr;
  glm.aux = aux;
  glm.wt = op.ip[3] >= 0 ? c.v(op.in[op.ip[3]]) : nullptr;

  std::array<LinTerm, kMaxGlmTerms> terms;
  std::size_t gathered = 0;  // adjoint doubles of the gather terms
  for (std::size_t q = kGlmHeader; q < op.ip.size(); q += 4, ++glm.nt) {
    LinTerm& t = terms[glm.nt] = read_term(op, c, q);
    if (!c.want_grad) t.va = t.sa = nullptr;
    if (t.kind == kTermGather && t.va) gathered += t.L;
  }
  double sigma = 1.0;
  if (glm.family == kGlmNormal) {
    sigma = aux[0];
    if (!(sigma > 0)) {
      c.target += -kInf;
      return;
    }
    glm.inv_var = 1.0 / (sigma * sigma);
  } else if (glm.family == kGlmNegBin) {
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
        if (local[q].kind == kTermGather && local[q].va) {
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
        if (terms[q].kind == kTermGather && terms[q].va) {
          for (std::size_t j = 0; j < terms[q].L; ++j) terms[q].va[j] += gat[j];
          gat += terms[q].L;
        }
    }
  }
  lp += op.dp.empty() ? 0.0 : op.dp[0];
  if (glm.family == kGlmNormal) {
    // merged cells: the within-cell squares and the rows they stand for (dp[1], dp[2])
    if (op.dp.size() > 2) aux_sum += op.dp[1];
    const double nn = op.dp.size() > 2 ? op.dp[2] : static_cast<double>(n);
    lp += -0.5 * aux_sum * glm.inv_var - nn * (std::log(sigma) + kLogSqrt2Pi);
    if (aux_adj) aux_adj[0] += (aux_sum * glm.inv_var - nn) / sigma;
  } else if (glm.family == kGlmNegBin) {
    const double nn = static_cast<double>(n);
    lp -= nn * std::lgamma(glm.phi);
    if (aux_adj) aux_adj[0] += aux_sum - nn * digamma(glm.phi);
  }
  for (std::size_t q = 0; q < glm.nt; ++q)
    if (terms[q].kind == kTermScalar && terms[q].va) terms[q].va[0] += sums[q];
    else if (terms[q].kind == kTermScaled && terms[q].sa) terms[q].sa[0] += sums[q];
  c.target += lp;
}

}  // namespace

bool glm_density(const Op& op, Ctx& c) {
  if (op.code != OpCode::GlmLpdf) return false;
  glm_lpdf(op, c);
  return true;
}

}  // namespace brr::ad
