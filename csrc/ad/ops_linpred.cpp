// Fused linear predictor: out = sum of gathered group effects, scalars, columns and scalar-times-column
// products, each optionally scaled by a data column. One op replaces chains of gathers and adds; rows go in cache-sized blocks.
#include <algorithm>

#include "ad/kernels.hpp"
#include "ad/linpred_terms.hpp"
#include "ir/glm_codes.hpp"

namespace brr::ad {

namespace {

constexpr std::size_t kBlock = 2048;

template <class F>
void for_terms(const Op& op, Ctx& c, F f) {
  for (std::size_t q = 0; q < op.ip.size(); q += 4) f(read_term(op, c, q));
}

}  // namespace

void linpred_forward(const Op& op, Ctx& c) {
  double* o = c.out(op.out);
  const std::size_t n = c.n(op.out);
  for (std::size_t b0 = 0; b0 < n; b0 += kBlock) {
    const std::size_t m = std::min(kBlock, n - b0);
    std::fill(o + b0, o + b0 + m, 0.0);
    for_terms(op, c, [&](const LinTerm& t) { add_term_rows(t, b0, m, o + b0); });
  }
}

void linpred_backward(const Op& op, Ctx& c) {
  const double* g = c.a(op.out);
  const std::size_t n = c.n(op.out);
  for_terms(op, c, [&](const LinTerm& t) {
    if (!wants_adjoint(t)) return;
    if (t.kind == kTermScaled) {
      const double sum = scaled_adjoint_rows(t, 0, n, g);
      if (t.sa) t.sa[0] += sum;
    } else if (t.kind == kTermGather) {
      scatter_all_rows(t, n, g, c.ws.scratch.data());
    } else if (t.kind == kTermScalar) {
      t.va[0] += scalar_adjoint_rows(t, 0, n, g);
    } else {
      dense_adjoint_rows(t, 0, n, g);
    }
  });
}

}  // namespace brr::ad
