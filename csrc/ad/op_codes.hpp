// The closed set of array operations a compiled model is made of.
#pragma once
#include <cstdint>

namespace brr::ad {

enum class OpCode : int32_t {
  // elementwise unary: out[i] = f(a[i])
  Neg = 0, Exp, Log, Log1p, Expm1, Logit, InvLogit, LogInvLogit, Softplus, Sqrt, Square, Tanh,
  Abs, LGamma, Log1mInvLogit,
  // elementwise binary with scalar broadcasting (size-1 inputs): out[i] = f(a[i], b[i])
  Add = 100, Sub, Mul, Div, Pow,
  // structure
  Gather = 200,      // out[i] = a[idx[i]]              (adjoint: scatter-add)
  ScatterAdd,        // out[idx[i]] += a[i]             (sums over axes; adjoint: gather)
  Sum,               // out[0] = sum(a)
  CumSum,            // along axis of (outer, len, inner)
  LogSumExp,         // along axis of (outer, len, inner) -> (outer, inner)
  Softmax,           // along axis of (outer, len, inner)
  Concat,            // out = [a0, a1, ...]
  DenseMatMul,       // out(n,m) = X(n,k) @ B(k,m); X is a constant slot
  CsrMatVec,         // out(n) = A(n,k) @ b(k);  A in CSR (indptr, indices idx, values const slot)
  TargetAdd,         // target += sum(a)
  LinearPredictor,   // out[i] = sum over terms: a[idx[i]] (* d[i]), s (* d[i]), or v[i]; see ops_linpred.cpp
  // constraining transforms: out = T(a), target += log|J|
  LowerBound = 300, UpperBound, Interval, Ordered, Simplex, SumToZero, CholeskyCorr,
  // fused log-densities: target += sum_i log p(x[i] | params[i])
  NormalLpdf = 400, StudentTLpdf, CauchyLpdf, LaplaceLpdf, ExponentialLpdf, GammaLpdf,
  InvGammaLpdf, LogNormalLpdf, BetaLpdf, UniformLpdf,
  BernoulliLogitLpmf = 450, BinomialLogitLpmf, PoissonLogLpmf, NegBinomialLogLpmf,
  CategoricalLogitLpmf, MultinomialLogitLpmf,
  DirichletLpdf = 480, MvNormalCholeskyLpdf, LkjCholeskyLpdf,
  IcarPairwiseLpdf = 490,  // -1/2 sum over edges (phi[i] - phi[j])^2, edges as two index arrays
  GlmLpdf = 495,           // likelihood of y given a fused linear predictor, one pass; see density/glm.cpp
};

constexpr std::size_t kMaxGlmTerms = 64;
constexpr std::size_t kGlmHeader = 4;  // GlmLpdf ip: family, y, aux, weights; then 4 ints per term  // terms of one GlmLpdf op (kept on the stack)
// GlmLpdf rows are cut into chunks of this many rows when there are more; each chunk keeps its own
// partial sums, reduced in chunk order, so the result is the same on any number of row threads.
constexpr std::size_t kGlmChunkRows = 8192;
inline std::size_t glm_chunks(std::size_t rows) { return rows <= kGlmChunkRows ? 1 : (rows + kGlmChunkRows - 1) / kGlmChunkRows; }

}  // namespace brr::ad
