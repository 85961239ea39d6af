// Narrow copies of row data (ir/narrow.hpp).
#include "ir/narrow.hpp"

#include <array>
#include <cstring>

namespace brr::ir {

NarrowIndex narrow_index(const std::vector<int32_t>& index, int64_t bound) {
  NarrowIndex out;
  if (index.size() < kNarrowMinRows) return out;
  if (bound <= 256) out.u8.assign(index.begin(), index.end());
  else if (bound <= 65536) out.u16.assign(index.begin(), index.end());
  return out;
}

std::optional<CodedColumn> code_column(const double* values, std::size_t size) {
  if (size < kNarrowMinRows) return std::nullopt;
  // open addressing over the values' bit patterns; gives up at the 257th distinct value, so a continuous
  // column costs a few of its rows, not a pass
  constexpr std::size_t kSlots = 1024;
  std::array<uint64_t, kSlots> keys{};
  std::array<int16_t, kSlots> code_of;
  code_of.fill(-1);
  CodedColumn c;
  c.code.resize(size);
  for (std::size_t i = 0; i < size; ++i) {
    uint64_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    std::size_t h = static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ull) >> 54);  // top 10 bits
    while (code_of[h] >= 0 && keys[h] != bits) h = (h + 1) % kSlots;
    if (code_of[h] < 0) {
      if (c.table.size() == 256) return std::nullopt;
      keys[h] = bits;
      code_of[h] = static_cast<int16_t>(c.table.size());
      c.table.push_back(values[i]);
    }
    c.code[i] = static_cast<uint8_t>(code_of[h]);
  }
  return c;
}

}  // namespace brr::ir
