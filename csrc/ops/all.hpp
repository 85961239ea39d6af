// The ops defined by a spec (ops/spec.hpp), one line each, and the dispatch every executor and the
// shape check use. The other ops are still run by their families' kernels in ad/, density/ and
// backend/ (see docs/architecture.md).
#pragma once
#include "ops/densities/categorical_logit.hpp"
#include "ops/densities/dirichlet.hpp"
#include "ops/densities/lkj_cholesky.hpp"
#include "ops/densities/multinomial_logit.hpp"
#include "ops/densities/mv_normal_cholesky.hpp"
#include "ops/densities/ordinal.hpp"
#include "ops/elementwise/where.hpp"
#include "ops/linalg/cholesky.hpp"
#include "ops/linalg/tri_solve.hpp"
#include "ops/lines/cumsum.hpp"
#include "ops/lines/log_sum_exp.hpp"
#include "ops/series/linear_recurrence.hpp"
#include "ops/structure/concat.hpp"
#include "ops/structure/sum.hpp"
#include "ops/transforms/bounds.hpp"
#include "ops/transforms/cholesky_corr.hpp"
#include "ops/transforms/ordered.hpp"
#include "ops/transforms/simplex.hpp"
#include "ops/transforms/sum_to_zero.hpp"

namespace brr::ops {

#define BRR_SPEC_OPS(X) \
  X(CumSum)             \
  X(LogSumExp)          \
  X(Softmax)            \
  X(Where)              \
  X(LowerBound)         \
  X(UpperBound)         \
  X(Interval)           \
  X(Ordered)            \
  X(Simplex)            \
  X(SumToZero)          \
  X(CholeskyCorr)       \
  X(Cholesky)           \
  X(TriSolve)           \
  X(LinearRecurrence)   \
  X(MvNormalCholeskyLpdf) \
  X(LkjCholeskyLpdf)    \
  X(CategoricalLogitLpmf) \
  X(MultinomialLogitLpmf) \
  X(DirichletLpdf)      \
  X(OrderedLogisticLpmf) \
  X(OrderedProbitLpmf)  \
  X(Concat)             \
  X(Sum)                \
  X(TargetAdd)

// Calls f(Spec{}) for an op with a spec; false for any other.
template <class F>
bool with_spec(OpCode code, F&& f) {
  switch (code) {
#define BRR_SPEC_CASE(N) \
  case OpCode::N:        \
    f(N{});              \
    return true;
    BRR_SPEC_OPS(BRR_SPEC_CASE)
#undef BRR_SPEC_CASE
    default:
      return false;
  }
}

}  // namespace brr::ops
