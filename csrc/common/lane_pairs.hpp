// Four-lane sums held as two pairs of doubles (GCC/Clang vector extension, one SSE2 register each).
// Lanes (0, 1) and (2, 3) accumulate elements i mod 4 in index order and combine as lane_sum does,
// (s0 + s1) + (s2 + s3), so results equal lane_sum's bit for bit; written this way the compiler keeps
// the sums in registers even when the loop also stores, where a lane_sum lambda with side effects
// compiles to scalar code.
#pragma once
#include <cstddef>
#include <cstring>

namespace brr {

typedef double Pair __attribute__((vector_size(16)));

inline Pair load_pair(const double* p) {
  Pair x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
inline void store_pair(double* p, Pair x) { std::memcpy(p, &x, sizeof x); }
inline double lane_total(Pair lo, Pair hi) { return (lo[0] + lo[1]) + (hi[0] + hi[1]); }

}  // namespace brr
