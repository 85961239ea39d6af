// The ICAR pairwise-difference density over an edge list; the other multivariate densities (multivariate
// normal and LKJ on Cholesky factors, categorical and multinomial logit, Dirichlet) are op specs (ops/densities/).
#include <cmath>

#include "ad/kernels.hpp"
#include "common/scalar_math.hpp"
#include "common/errors.hpp"
#include "density/density_kernels.hpp"

namespace brr::ad {

namespace {

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
    case OpCode::IcarPairwiseLpdf: icar_pairwise(op, c); return true;
    default: return false;
  }
}

void density_forward(const Op& op, Ctx& c) {
  if (univariate_density(op, c) || multivariate_density(op, c) || glm_density(op, c))
    return;
  fail("density op ", op_label(op.code), " has no kernel");
}

}  // namespace brr::ad
