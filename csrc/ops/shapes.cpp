// Validation of op arity and sizes (declared in ir/op_shapes.hpp, which Program calls as it is built): the
// C++ core refuses a malformed program instead of crashing. An op with a spec (ops/all.hpp) brings its own
// rule; the others' rules are here until they have one.
#include "ir/op_shapes.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/errors.hpp"
#include "ir/op_arity.hpp"
#include "ops/shape_check.hpp"
#include "ops/all.hpp"
#include "ir/glm_codes.hpp"

namespace brr::ir {

bool is_unary(OpCode c) { return static_cast<int>(c) < 100; }
bool is_binary(OpCode c) { return static_cast<int>(c) >= 100 && static_cast<int>(c) < 200; }
bool is_transform(OpCode c) { return static_cast<int>(c) >= 300 && static_cast<int>(c) < 400; }
bool is_density(OpCode c) { return static_cast<int>(c) >= 400; }


// The op's row in ops.def: how many inputs, index arrays, integer parameters and whether it writes a slot.
void check_signature(const Op& op) {
  const OpSignature s = op_signature(op.code);
  const std::string code = op_label(op.code);
  if (!known(s)) fail("unknown op code ", code, "; the codes are listed in csrc/ir/ops.def");
  const auto nin = static_cast<int>(op.in.size());
  if (nin < s.min_inputs || (s.max_inputs >= 0 && nin > s.max_inputs)) {
    if (s.min_inputs == s.max_inputs) fail("op ", code, ": expected ", s.min_inputs, " inputs, got ", nin);
    if (s.max_inputs < 0) fail("op ", code, ": expected at least ", s.min_inputs, " inputs, got ", nin);
    fail("op ", code, ": expected ", s.min_inputs, " to ", s.max_inputs, " inputs, got ", nin);
  }
  if (s.indices >= 0 && static_cast<int>(op.idx.size()) != s.indices)
    fail("op ", code, ": expected ", s.indices, " index arrays, got ", op.idx.size());
  if (static_cast<int>(op.ip.size()) < s.min_int_params)
    fail("op ", code, ": expected ", s.min_int_params, " integer parameters, got ", op.ip.size());
  if ((s.has_output == 1) != (op.out >= 0)) fail("op ", code, s.has_output ? ": needs an output slot" : ": takes no output slot");
}

void check_shapes(const Op& op, const ShapeView& sv, std::size_t& scratch, std::size_t& worker_scratch) {
  check_signature(op);
  ops::ShapeCheck c{op, sv};
  const OpCode k = op.code;
  if (is_unary(k)) {
    c.eq(c.in(0), c.out(), "input");
    return;
  }
  if (ops::with_spec(k, [&](auto spec) { decltype(spec)::check_shape(c); })) {
    scratch = 2 * c.work_per_lane;  // the scalar executor's work buffers (ad/spec_views.hpp)
    return;
  }
  if (is_binary(k)) {
    for (int i = 0; i < 2; ++i)
      if (c.in(i) != 1 && c.in(i) != c.out()) fail("op ", c.code(), ": input ", i, " has size ", c.in(i),
                                                   ", expected 1 or ", c.out());
    return;
  }
  switch (k) {
    case OpCode::Gather:
      c.eq(sv.index_len(op.idx[0]), c.out(), "gather index");
      if (sv.index_bound(op.idx[0]) > static_cast<int64_t>(c.in(0)))
        fail("gather: index bound ", sv.index_bound(op.idx[0]), " exceeds input size ", c.in(0));
      return;
    case OpCode::ScatterAdd:
      c.eq(sv.index_len(op.idx[0]), c.in(0), "scatter index");
      if (sv.index_bound(op.idx[0]) > static_cast<int64_t>(c.out()))
        fail("scatter_add: index bound ", sv.index_bound(op.idx[0]), " exceeds output size ", c.out());
      scratch = 4 * c.out();  // split accumulators (linpred_terms.hpp) when they pay
      return;
    case OpCode::DenseMatMul: {
      c.pos_ip(3);
      const std::size_t n = op.ip[0], kk = op.ip[1], m = op.ip[2];
      if (!sv.is_const(op.in[0])) fail("dense_matmul: the matrix must be data");
      c.eq(c.in(0), n * kk, "matrix");
      c.eq(c.in(1), kk * m, "right operand");
      c.eq(c.out(), n * m, "output");
      return;
    }
    case OpCode::CsrMatVec: {
      c.pos_ip(2);
      const std::size_t nr = op.ip[0], nc = op.ip[1];
      if (!sv.is_const(op.in[0])) fail("csr_matvec: the matrix values must be data");
      c.eq(sv.index_len(op.idx[0]), nr + 1, "indptr");
      c.eq(sv.index_len(op.idx[1]), c.in(0), "indices");
      if (sv.index_bound(op.idx[1]) > static_cast<int64_t>(nc)) fail("csr_matvec: column index out of range");
      c.eq(c.in(1), nc, "vector");
      c.eq(c.out(), nr, "output");
      return;
    }
    case OpCode::LinearPredictor: {
      // ip: 4 ints per term: kind, value input, index position (-1 none), data input (-1 none)
      if (op.out < 0 || op.ip.empty() || op.ip.size() % 4) fail("linear_predictor: malformed term list");
      const std::size_t n = c.out();
      scratch = std::max(scratch, 4 * c.linear_terms(0, n, "linear_predictor").first);  // split scatter copies
      return;
    }
    case OpCode::Scan: {
      if (op.ip.size() != 5) fail("op ", c.code(), ": needs 5 integer parameters (function, T, n, k, p)");
      c.pos_ip(5);
      const std::size_t T = op.ip[1], n = op.ip[2], k = op.ip[3], p = op.ip[4];
      c.arity(1 + (k > 0) + (p > 0), 0, 5, true);
      if (T < 1 || n < 1) fail("op ", c.code(), ": needs at least one step and one state, got T=", T, ", n=", n);
      c.eq(c.in(0), n, "x0");
      if (k) c.eq(c.in(1), T * k, "per-step inputs");
      if (p) c.eq(c.in(1 + (k > 0)), p, "parameters");
      c.eq(c.out(), T * n, "output");
      c.function(op.ip[0], n + k + p, n);
      scratch = 2 * (n + k + p) + 2 * n;
      return;
    }
    case OpCode::OdeSolve: {
      if (op.ip.size() != 6) fail("op ", c.code(), ": needs 6 integer parameters (function, n, p, T, method, max_steps)");
      c.pos_ip(6);
      const std::size_t n = op.ip[1], p = op.ip[2], T = op.ip[3];
      c.arity(1 + (p > 0), 0, 6, true);
      if (n < 1 || T < 1) fail("op ", c.code(), ": needs at least one state and one time, got n=", n, ", T=", T);
      if (op.ip[4] > 1) fail("op ", c.code(), ": method ", op.ip[4], " is not 0 (rk45) or 1 (bdf)");
      if (op.ip[5] < 1) fail("op ", c.code(), ": max_steps must be >= 1");
      c.eq(c.in(0), n, "y0");
      if (p) c.eq(c.in(1), p, "parameters");
      c.eq(c.out(), T * n, "output");
      if (op.dp.size() != 3 + T) fail("op ", c.code(), ": needs 3 + T scalar parameters (t0, rtol, atol, times)");
      const double t0 = op.dp[0], rtol = op.dp[1], atol = op.dp[2];
      if (!(rtol > 0) || !(atol > 0) || !std::isfinite(rtol) || !std::isfinite(atol))
        fail("op ", c.code(), ": rtol and atol must be positive and finite, got ", rtol, " and ", atol);
      double prev = t0;
      for (std::size_t i = 0; i < T; ++i) {
        const double t = op.dp[3 + i];
        if (!std::isfinite(t) || t < prev || (i > 0 && t == prev))
          fail("op ", c.code(), ": times must be finite, increasing and >= t0 = ", t0, "; time ", i, " is ", t);
        prev = t;
      }
      c.function(op.ip[0], 1 + n + p, n);
      return;
    }
    case OpCode::HmmLogLik: {
      c.pos_ip(3);
      const std::size_t S = op.ip[0], T = op.ip[1], K = op.ip[2];
      if (T < 1 || K < 1) fail("op ", c.code(), ": needs at least one step and one state, got T=", T, ", K=", K);
      c.eq(c.in(0), K, "log_init");
      c.eq(c.in(1), K * K, "log_trans");
      c.eq(c.in(2), S * T * K, "log_emission");
      c.eq(c.out(), S, "output");
      scratch = K * K + 2 * T * K + T + 2 * K;
      return;
    }
    case OpCode::PointwiseLpdf: {
      if (op.ip.empty()) fail("op ", c.code(), ": needs the density's op code as integer parameter 0");
      const int nin = univariate_arity(static_cast<OpCode>(op.ip[0]));
      if (nin == 0) fail("op ", c.code(), ": ", op.ip[0], " is not a univariate density op code");
      // the density's inputs, value first, then optionally its data-only terms per element (a constant)
      const bool with_terms = op.in.size() == static_cast<std::size_t>(nin) + 1;
      c.arity(static_cast<std::size_t>(nin) + (with_terms ? 1 : 0), 0, 1, true);
      if (with_terms && !sv.is_const(op.in[nin]))
        fail("op ", c.code(), ": its last input (the data-only terms) must be a constant");
      for (int i = 0; i < nin + (with_terms ? 1 : 0); ++i)
        if (c.in(i) != 1 && c.in(i) != c.out())
          fail("op ", c.code(), ": input ", i, " has size ", c.in(i), ", expected 1 or ", c.out());
      return;
    }
    default:
      break;
  }
  if (!is_density(k)) fail("internal: op ", c.code(), " has no shape rule in op_shapes.cpp");
  if (k == OpCode::IcarPairwiseLpdf) {
    c.eq(sv.index_len(op.idx[1]), sv.index_len(op.idx[0]), "second edge endpoint list");
    for (int e = 0; e < 2; ++e)
      if (sv.index_bound(op.idx[e]) > static_cast<int64_t>(c.in(0))) fail("icar: edge node id exceeds the field size");
    return;
  }
  if (k == OpCode::GlmLpdf) {
    // ip: family, y input, aux input (-1 none), weight input (-1 none), then 4 ints per term as LinearPredictor
    if (op.out >= 0) fail("glm: a density has no output slot");
    if (op.ip.size() < kGlmHeader + 4 || (op.ip.size() - kGlmHeader) % 4) fail("glm: malformed term list");
    if ((op.ip.size() - kGlmHeader) / 4 > kMaxGlmTerms) fail("glm: more than ", kMaxGlmTerms, " terms");
    const int64_t family = op.ip[0], yi = op.ip[1], ai = op.ip[2], wi = op.ip[3];
    const auto nin = static_cast<int64_t>(op.in.size());
    if (!known_glm_family(family)) fail("glm: unknown family ", family, "; the families are listed in csrc/ir/glm.def");
    if (yi < 0 || yi >= nin || !sv.is_const(op.in[yi])) fail("glm: the response must be a data input");
    const std::size_t n = sv.slot_size(op.in[yi]);
    const bool needs_aux = family == kGlmBinomial || family == kGlmNormal || family == kGlmNegBin;
    if (needs_aux != (ai >= 0) || ai >= nin) fail("glm: family ", family, " has a wrong auxiliary input");
    if (family == kGlmBinomial && (sv.slot_size(op.in[ai]) != n || !sv.is_const(op.in[ai])))
      fail("glm: binomial trials must be data with one value per row");
    if (family == kGlmNormal && sv.slot_size(op.in[ai]) != 1) fail("glm: the normal sigma must be a scalar");
    if (family == kGlmNegBin && sv.slot_size(op.in[ai]) != 1) fail("glm: the negative binomial phi must be a scalar");
    if (wi >= nin) fail("glm: bad weight input");
    if (wi >= 0 && family != kGlmPoisson && family != kGlmNormal) fail("glm: only the Poisson and normal families take row weights");
    if (wi >= 0 && (sv.slot_size(op.in[wi]) != n || !sv.is_const(op.in[wi])))
      fail("glm: row weights must be data with one value per row");
    const std::size_t need = 4 * c.linear_terms(kGlmHeader, n, "glm").second;
    // per thread: split scatter accumulators (4 per group); shared: one adjoint buffer per row chunk
    worker_scratch = std::max(worker_scratch, need);
    const std::size_t chunks = glm_chunks(n);
    if (chunks > 1) scratch = std::max(scratch, chunks * (need / 4 + kMaxGlmTerms + 2));
    return;
  }
  // Densities: inputs broadcast to a common size n (size-1 inputs are scalars); the batched ones (rows
  // of K, b and K in ip) are op specs. Their input counts are checked by the signature above.
  const std::size_t nin = op.in.size();
  const bool batched = op_signature(k).min_int_params == 2;
  if (!batched) {
    std::size_t n = 1;
    for (std::size_t i = 0; i < nin; ++i) n = std::max(n, c.in(static_cast<int>(i)));
    for (std::size_t i = 0; i < nin; ++i)
      if (c.in(static_cast<int>(i)) != 1 && c.in(static_cast<int>(i)) != n)
        fail("density ", c.code(), ": input ", i, " has size ", c.in(static_cast<int>(i)), ", expected 1 or ", n);
    return;
  }
  fail("internal: density op ", c.code(), " has no shape rule in op_shapes.cpp");  // the rows-of-K ones have specs
}

}  // namespace brr::ir
