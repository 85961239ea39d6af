// Ordered logistic and ordered probit likelihoods: category y in 0..K-1 of a latent eta cut at
// K-1 increasing cutpoints. Inputs: y (b, constant), eta (b), cutpoints (K-1, shared by every row,
// or b*(K-1), one set per row), optionally row weights (b, constant: merged rows' counts);
// ip = (b, K, cutpoint stride 0 or K-1).
#include <cmath>

#include "ad/kernels.hpp"
#include "common/scalar_math.hpp"
#include "density/density_kernels.hpp"
#include "density/ordinal_rows.hpp"

namespace brr::ad {

namespace {

void ordered(const Op& op, Ctx& c, bool probit) {
  const std::size_t b = op.ip[0], K = op.ip[1], stride = op.ip[2];
  const double* y = c.v(op.in[0]);
  const double* eta = c.v(op.in[1]);
  const double* cut = c.v(op.in[2]);
  double* ge = c.a(op.in[1]);
  double* gc = c.a(op.in[2]);
  const double* w = op.in.size() > 3 ? c.v(op.in[3]) : nullptr;
  double lp = 0.0;
  for (std::size_t r = 0; r < b; ++r) {
    const double yr = y[r];
    if (!(yr >= 0 && yr < static_cast<double>(K))) {  // checked in Python; never index out of range here
      c.target = -HUGE_VAL;
      return;
    }
    const std::size_t k = static_cast<std::size_t>(yr);
    const double* cr = cut + r * stride;
    const ordinal::RowLp p = ordinal::row_lp(probit, eta[r], k > 0 ? cr[k - 1] : 0.0, k < K - 1 ? cr[k] : 0.0, k, K);
    const double wr = w ? w[r] : 1.0;
    lp += wr * p.lp;
    if (ge) ge[r] -= wr * (p.d_lo + p.d_hi);
    if (gc) {
      double* g = gc + r * stride;
      if (k > 0) g[k - 1] += wr * p.d_lo;
      if (k < K - 1) g[k] += wr * p.d_hi;
    }
  }
  c.target += lp;
}

}  // namespace

bool ordinal_density(const Op& op, Ctx& c) {
  switch (op.code) {
    case OpCode::OrderedLogisticLpmf: ordered(op, c, false); return true;
    case OpCode::OrderedProbitLpmf: ordered(op, c, true); return true;
    default: return false;
  }
}

}  // namespace brr::ad
