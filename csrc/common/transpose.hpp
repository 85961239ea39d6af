// Cache-blocked transpose of a rows x cols row-major matrix into cols x rows. The batch executor turns
// the samplers' points (lanes x dim) into its element-major layout and the gradients back; a plain
// double loop there strides a whole row per element (perf put about a fifth of a 64-lane W3 sweep in
// those two loops). Blocks of kBlock x kBlock keep both sides' lines in L1.
#pragma once
#include <algorithm>
#include <cstddef>

namespace brr {

inline void transpose(const double* src, std::size_t rows, std::size_t cols, double* dst) {
  constexpr std::size_t kBlock = 16;
  for (std::size_t r0 = 0; r0 < rows; r0 += kBlock) {
    const std::size_t r1 = std::min(rows, r0 + kBlock);
    for (std::size_t c0 = 0; c0 < cols; c0 += kBlock) {
      const std::size_t c1 = std::min(cols, c0 + kBlock);
      for (std::size_t c = c0; c < c1; ++c)
        for (std::size_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
    }
  }
}

}  // namespace brr
