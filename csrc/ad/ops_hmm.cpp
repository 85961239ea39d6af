// Marginal log-likelihood of hidden Markov sequences by the scaled forward algorithm (Rabiner 1989):
// probabilities renormalised at each step, emissions shifted by their row maximum, so K exponentials
// and one log a step instead of K^2 log-sum-exps. The gradient comes from the scaled backward pass
// (posterior state and transition probabilities); the backward pass recomputes the forward one.
// Inputs: log_init (K), log_trans (K x K, row: from, column: to), log_emission (S x T x K);
// output: log p(sequence s) for each of the S sequences; ip = (S, T, K).
#include <algorithm>
#include <cmath>

#include "ad/kernels.hpp"

namespace brr::ad {

namespace {

struct HmmScratch {  // views into the op's scratch: P (K x K), then per step a (T x K), b (T x K), c (T)
  double* P;
  double* a;
  double* b;
  double* c;
  double* beta;  // K
  double* nb;    // K
};

HmmScratch views(Ctx& ctx, std::size_t T, std::size_t K) {
  double* s = ctx.ws.scratch.data();
  return {s, s + K * K, s + K * K + T * K, s + K * K + 2 * T * K, s + K * K + 2 * T * K + T,
          s + K * K + 2 * T * K + T + K};
}

// The scaled forward pass of one sequence into v.a/v.b/v.c; returns log p(sequence) (-inf: no path).
double forward_one(const double* li, const double* e, std::size_t T, std::size_t K, const HmmScratch& v) {
  double logL = 0.0;
  for (std::size_t t = 0; t < T; ++t) {
    const double* et = e + t * K;
    double* at = v.a + t * K;
    double* bt = v.b + t * K;
    double m = -HUGE_VAL;
    for (std::size_t j = 0; j < K; ++j) m = std::max(m, t == 0 ? li[j] + et[j] : et[j]);
    if (!std::isfinite(m)) return -HUGE_VAL;
    double c = 0.0;
    for (std::size_t j = 0; j < K; ++j) {
      bt[j] = std::exp((t == 0 ? li[j] + et[j] : et[j]) - m);
      double s = 1.0;
      if (t > 0) {
        s = 0.0;
        const double* ap = v.a + (t - 1) * K;
        for (std::size_t i = 0; i < K; ++i) s += ap[i] * v.P[i * K + j];
      }
      at[j] = s * bt[j];
      c += at[j];
    }
    if (!(c > 0)) return -HUGE_VAL;
    const double inv = 1.0 / c;
    for (std::size_t j = 0; j < K; ++j) at[j] *= inv;
    v.c[t] = c;
    logL += m + std::log(c);
  }
  return logL;
}

void fill_P(const double* A, std::size_t K, const HmmScratch& v) {
  for (std::size_t i = 0; i < K * K; ++i) v.P[i] = std::exp(A[i]);
}

}  // namespace

void hmm_forward(const Op& op, Ctx& c) {
  const std::size_t S = op.ip[0], T = op.ip[1], K = op.ip[2];
  const HmmScratch v = views(c, T, K);
  fill_P(c.v(op.in[1]), K, v);
  const double* li = c.v(op.in[0]);
  const double* e = c.v(op.in[2]);
  double* out = c.out(op.out);
  for (std::size_t s = 0; s < S; ++s) out[s] = forward_one(li, e + s * T * K, T, K, v);
}

void hmm_backward(const Op& op, Ctx& c) {
  const std::size_t S = op.ip[0], T = op.ip[1], K = op.ip[2];
  const HmmScratch v = views(c, T, K);
  fill_P(c.v(op.in[1]), K, v);
  const double* li = c.v(op.in[0]);
  const double* e = c.v(op.in[2]);
  const double* g = c.a(op.out);
  double* gli = c.a(op.in[0]);
  double* gA = c.a(op.in[1]);
  double* ge = c.a(op.in[2]);
  for (std::size_t s = 0; s < S; ++s) {
    if (g[s] == 0.0) continue;
    if (!std::isfinite(forward_one(li, e + s * T * K, T, K, v))) continue;  // density already -inf
    double* ges = ge ? ge + s * T * K : nullptr;
    std::fill(v.beta, v.beta + K, 1.0);            // scaled beta at the last step
    for (std::size_t tt = T; tt-- > 0;) {
      const double* at = v.a + tt * K;
      // posterior of the state at step tt: a_t(j) beta_t(j) (already normalised by the scaling)
      if (ges)
        for (std::size_t j = 0; j < K; ++j) ges[tt * K + j] += g[s] * at[j] * v.beta[j];
      if (tt == 0) {
        if (gli)
          for (std::size_t j = 0; j < K; ++j) gli[j] += g[s] * at[j] * v.beta[j];
        break;
      }
      const double* ap = v.a + (tt - 1) * K;
      const double* bt = v.b + tt * K;
      const double inv = 1.0 / v.c[tt];
      for (std::size_t i = 0; i < K; ++i) {
        double acc = 0.0;
        for (std::size_t j = 0; j < K; ++j) {
          const double w = v.P[i * K + j] * bt[j] * v.beta[j] * inv;
          acc += w;
          if (gA) gA[i * K + j] += g[s] * ap[i] * w;   // posterior of the transition i -> j
        }
        v.nb[i] = acc;
      }
      std::copy(v.nb, v.nb + K, v.beta);
    }
  }
}

}  // namespace brr::ad
