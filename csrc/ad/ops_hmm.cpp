// Marginal log-likelihood of hidden Markov sequences by the scaled forward algorithm (Rabiner 1989):
// probabilities renormalised at each step, emissions shifted by their row maximum, so K exponentials
// and one log a step instead of K^2 log-sum-exps. The gradient comes from the scaled backward pass
// (posterior state and transition probabilities); the backward pass recomputes the forward one.
// Inputs: log_init (K), log_trans (K x K, row: from, column: to), log_emission (S x T x K);
// output: log p(sequence s) for each of the S sequences; ip = (S, T, K).
#include "ad/hmm_rows.hpp"
#include "ad/kernels.hpp"

namespace brr::ad {

void hmm_forward(const Op& op, Ctx& c) {
  const std::size_t S = op.ip[0], T = op.ip[1], K = op.ip[2];
  const hmm::Scratch v = hmm::scratch(Out{c.ws.scratch.data()}, T, K);
  hmm::fill_P(In{c.v(op.in[1])}, K, v);
  const double* li = c.v(op.in[0]);
  const double* e = c.v(op.in[2]);
  double* out = c.out(op.out);
  for (std::size_t s = 0; s < S; ++s) out[s] = hmm::forward_one(In{li}, In{e + s * T * K}, T, K, v);
}

void hmm_backward(const Op& op, Ctx& c) {
  const std::size_t S = op.ip[0], T = op.ip[1], K = op.ip[2];
  const hmm::Scratch v = hmm::scratch(Out{c.ws.scratch.data()}, T, K);
  hmm::fill_P(In{c.v(op.in[1])}, K, v);
  const double* li = c.v(op.in[0]);
  const double* e = c.v(op.in[2]);
  const double* g = c.a(op.out);
  double* ge = c.a(op.in[2]);
  for (std::size_t s = 0; s < S; ++s)
    hmm::backward_one(g[s], In{li}, In{e + s * T * K}, T, K, v, Out{c.a(op.in[0])}, Out{c.a(op.in[1])},
                      Out{ge}.at(s * T * K));
}

}  // namespace brr::ad
