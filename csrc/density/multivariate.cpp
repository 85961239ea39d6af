// Fused multivariate log-densities over a batch of vectors of length K (row-major (batch, K)); the
// multivariate normal and LKJ on Cholesky factors and the categorical logit are op specs (ops/densities/).
#include <cmath>

#include "ad/kernels.hpp"
#include "common/scalar_math.hpp"
#include "common/errors.hpp"
#include "density/density_kernels.hpp"
#include "density/multivariate_rows.hpp"

namespace brr::ad {

namespace {

void multinomial_logit(const Op& op, Ctx& c) {  // the multinomial coefficient is the op's constant
  const std::size_t b = op.ip[0], K = op.ip[1];
  const double* y = c.v(op.in[0]);
  const double* lg = c.v(op.in[1]);
  double* ga = c.a(op.in[1]);
  double lp = op.dp.empty() ? 0.0 : op.dp[0];
  for (std::size_t r = 0; r < b; ++r)
    rows::multinomial_row(In{y + r * K}, In{lg + r * K}, K, lp, Out{ga}.at(r * K));
  c.target += lp;
}

void dirichlet(const Op& op, Ctx& c) {
  c.target += rows::dirichlet(op.ip[0], op.ip[1], In{c.v(op.in[0])}, In{c.v(op.in[1])}, Out{c.a(op.in[0])},
                              Out{c.a(op.in[1])});
}

// ICAR pairwise differences over an edge list: value and gradient in one pass over the edges.
void icar_pairwise(const Op& op, Ctx& c) {
  const double* phi = c.v(op.in[0]);
  double* pa = c.a(op.in[0]);
  const int32_t* i1 = c.index(op.idx[0]);
  const int32_t* i2 = c.index(op.idx[1]);
  const std::size_t m = c.index_len(op.idx[0]);
  double lp = 0.0;
  for (std::size_t e = 0; e < m; ++e) {
    const double d = phi[i1[e]] - phi[i2[e]];
    lp += d * d;
    if (pa) {
      pa[i1[e]] -= d;
      pa[i2[e]] += d;
    }
  }
  c.target += -0.5 * lp;
}

}  // namespace

bool multivariate_density(const Op& op, Ctx& c) {
  switch (op.code) {
    case OpCode::MultinomialLogitLpmf: multinomial_logit(op, c); return true;
    case OpCode::DirichletLpdf: dirichlet(op, c); return true;
    case OpCode::IcarPairwiseLpdf: icar_pairwise(op, c); return true;
    default: return false;
  }
}

void density_forward(const Op& op, Ctx& c) {
  if (univariate_density(op, c) || multivariate_density(op, c) || ordinal_density(op, c) || glm_density(op, c))
    return;
  fail("density op ", op_label(op.code), " has no kernel");
}

}  // namespace brr::ad
