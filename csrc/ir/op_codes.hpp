// The closed set of array operations a compiled model is made of.
#pragma once
#include <cstdint>
#include <string>

#include "common/hd.hpp"

namespace brr::ir {

enum class OpCode : int32_t {
#define BRR_OP(name, code, py, ...) name = code,
#include "ir/ops.def"
#undef BRR_OP
};

// The op's Python constant (e.g. "GLM", "GATHER"), or nullptr for a code the table does not have.
inline const char* op_name(OpCode c) {
  switch (c) {
#define BRR_OP(name, code, py, ...) \
  case OpCode::name:           \
    return #py;
#include "ir/ops.def"
#undef BRR_OP
  }
  return nullptr;
}

// What an op takes, from its row in ops.def; -1 in max_inputs / indices: any number (its shape rule decides).
struct OpSignature {
  int min_inputs, max_inputs, indices, min_int_params, has_output;
};

// The signature of a code the table has; {-2, ...} (known() false) for one it does not.
BRR_HD inline OpSignature op_signature(OpCode c) {
  switch (c) {
#define BRR_OP(name, code, py, in_min, in_max, idx, ip, out) \
  case OpCode::name:                                         \
    return OpSignature{in_min, in_max, idx, ip, out};
#include "ir/ops.def"
#undef BRR_OP
  }
  return OpSignature{-2, -2, -2, -2, -2};
}
BRR_HD inline bool known(const OpSignature& s) { return s.min_inputs >= 0; }

// "glm (495)" for messages, the name as brr_bayes.ops.name() gives it; the bare number for an unknown code.
inline std::string op_label(OpCode c) {
  const char* n = op_name(c);
  if (!n) return std::to_string(static_cast<int>(c));
  std::string s(n);
  for (char& ch : s) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  return s + " (" + std::to_string(static_cast<int>(c)) + ")";
}

constexpr std::size_t kMaxGlmTerms = 64;
constexpr std::size_t kGlmHeader = 4;  // GlmLpdf ip: family, y, aux, weights; then 4 ints per term  // terms of one GlmLpdf op (kept on the stack)
// GlmLpdf rows are cut into chunks of this many rows when there are more; each chunk keeps its own
// partial sums, reduced in chunk order, so the result is the same on any number of row threads.
constexpr std::size_t kGlmChunkRows = 8192;
inline std::size_t glm_chunks(std::size_t rows) { return rows <= kGlmChunkRows ? 1 : (rows + kGlmChunkRows - 1) / kGlmChunkRows; }

}  // namespace brr::ir
