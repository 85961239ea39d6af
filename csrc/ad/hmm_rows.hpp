// The scaled forward algorithm of ops_hmm.cpp and its backward pass over strided views, written once for
// the CPU kernels (stride 1) and the device kernels (stride B: one lane per thread).
#pragma once
#include <cmath>
#include <cstddef>

#include "common/hd.hpp"
#include "common/view.hpp"

namespace brr::ad::hmm {

struct Scratch {  // P (K x K), then per step a (T x K), b (T x K), c (T); beta, nb (K each)
  Out P, a, b, c, beta, nb;
};

// views into one block of K*K + 2*T*K + T + 2*K doubles (block[i] at p[i * stride])
BRR_HD inline Scratch scratch(Out s, std::size_t T, std::size_t K) {
  return {s, s.at(K * K), s.at(K * K + T * K), s.at(K * K + 2 * T * K), s.at(K * K + 2 * T * K + T),
          s.at(K * K + 2 * T * K + T + K)};
}
BRR_HD inline std::size_t scratch_size(std::size_t T, std::size_t K) { return K * K + 2 * T * K + T + 2 * K; }

BRR_HD inline void fill_P(In A, std::size_t K, const Scratch& v) {
  for (std::size_t i = 0; i < K * K; ++i) v.P[i] = std::exp(A[i]);
}

// The scaled forward pass of one sequence (emissions e: T x K) into v.a/v.b/v.c; returns log p (-inf: no path).
BRR_HD inline double forward_one(In li, In e, std::size_t T, std::size_t K, const Scratch& v) {
  double logL = 0.0;
  for (std::size_t t = 0; t < T; ++t) {
    double m = -HUGE_VAL;
    for (std::size_t j = 0; j < K; ++j) {
      const double x = t == 0 ? li[j] + e[t * K + j] : e[t * K + j];
      m = m < x ? x : m;
    }
    if (!std::isfinite(m)) return -HUGE_VAL;
    double c = 0.0;
    for (std::size_t j = 0; j < K; ++j) {
      v.b[t * K + j] = std::exp((t == 0 ? li[j] + e[t * K + j] : e[t * K + j]) - m);
      double s = 1.0;
      if (t > 0) {
        s = 0.0;
        for (std::size_t i = 0; i < K; ++i) s += v.a[(t - 1) * K + i] * v.P[i * K + j];
      }
      v.a[t * K + j] = s * v.b[t * K + j];
      c += v.a[t * K + j];
    }
    if (!(c > 0)) return -HUGE_VAL;
    const double inv = 1.0 / c;
    for (std::size_t j = 0; j < K; ++j) v.a[t * K + j] *= inv;
    v.c[t] = c;
    logL += m + std::log(c);
  }
  return logL;
}

// g times the gradient of log p(sequence) added to gli (K), gA (K x K), ge (T x K); each may be empty.
// Recomputes the forward pass; nothing is added where the sequence has no path.
BRR_HD inline void backward_one(double g, In li, In e, std::size_t T, std::size_t K, const Scratch& v, Out gli, Out gA,
                                Out ge) {
  if (g == 0.0) return;
  if (!std::isfinite(forward_one(li, e, T, K, v))) return;  // density already -inf
  for (std::size_t j = 0; j < K; ++j) v.beta[j] = 1.0;      // scaled beta at the last step
  for (std::size_t tt = T; tt-- > 0;) {
    // posterior of the state at step tt: a_t(j) beta_t(j) (already normalised by the scaling)
    if (ge)
      for (std::size_t j = 0; j < K; ++j) ge[tt * K + j] += g * v.a[tt * K + j] * v.beta[j];
    if (tt == 0) {
      if (gli)
        for (std::size_t j = 0; j < K; ++j) gli[j] += g * v.a[j] * v.beta[j];
      break;
    }
    const double inv = 1.0 / v.c[tt];
    for (std::size_t i = 0; i < K; ++i) {
      double acc = 0.0;
      for (std::size_t j = 0; j < K; ++j) {
        const double w = v.P[i * K + j] * v.b[tt * K + j] * v.beta[j] * inv;
        acc += w;
        if (gA) gA[i * K + j] += g * v.a[(tt - 1) * K + i] * w;  // posterior of the transition i -> j
      }
      v.nb[i] = acc;
    }
    for (std::size_t j = 0; j < K; ++j) v.beta[j] = v.nb[j];
  }
}

}  // namespace brr::ad::hmm
