// Rng::normals: Box-Muller over arrays, in chunks that live on the stack.
#include "infer/rng.hpp"

#include <algorithm>
#include <cmath>

#include "common/vec_math.hpp"

namespace brr::infer {

void Rng::normals(double* out, std::size_t n) {
  constexpr std::size_t kPairs = 64;
  double u[kPairs], a[kPairs], c[kPairs], s[kPairs];
  std::size_t done = 0;
  while (done < n) {
    const std::size_t pairs = std::min(kPairs, (n - done + 1) / 2);
    for (std::size_t k = 0; k < pairs; ++k) {
      u[k] = uniform_pos();  // (0, 1]: its log is finite
      a[k] = 6.283185307179586 * uniform();
    }
    vec_log(u, u, pairs);
    vec_cos(a, c, pairs);
    vec_sin(a, s, pairs);
    for (std::size_t k = 0; k < pairs; ++k) {
      const double r = std::sqrt(-2.0 * u[k]);
      out[done++] = r * c[k];
      if (done < n) out[done++] = r * s[k];  // an odd count drops the last sine
    }
  }
}

}  // namespace brr::infer
