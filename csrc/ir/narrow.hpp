// Narrow copies of a program's long row data for the CPU row kernels: an index array whose bound fits in
// 8 or 16 bits, and a data column with at most 256 distinct values (0/1 indicators, a response, a
// group-level covariate repeated over rows) as one-byte codes into a table of its values. Exact by
// construction: a kernel reads the same numbers from a quarter or an eighth of the bytes. Derived when
// an op that reads them narrow is added (Program::add_row_copies) and never serialised (loading a program
// adds its ops, and so the copies, again).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace brr::ir {

// Row data shorter than this stays as it is: the copy would not pay for its memory.
constexpr std::size_t kNarrowMinRows = 4096;

struct NarrowIndex {
  std::vector<uint8_t> u8;    // the index when its bound is <= 256
  std::vector<uint16_t> u16;  // else when its bound is <= 65,536
};

struct CodedColumn {
  std::vector<uint8_t> code;  // value i is table[code[i]], bit for bit
  std::vector<double> table;  // at most 256 distinct values (distinct as bit patterns)
};

NarrowIndex narrow_index(const std::vector<int32_t>& index, int64_t bound);

// The column coded, or nothing when it is short or has more than 256 distinct values.
std::optional<CodedColumn> code_column(const double* values, std::size_t size);

}  // namespace brr::ir
