// The codec of what a ChEES chain's saved state holds beside its position, RNG, step size and metric: the
// adaptation all chains share, as ChainState::ensemble's numbers. The one place that knows their order.
// Versions by length: 10 values (saved before the widest direction was learned: it starts afresh), or
// 12 + dimension.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "infer/adaptation.hpp"

namespace brr::infer {

struct CheesShared {
  DualAveraging da;                       // its mu, s_bar, x_bar, counter (delta is the run's setting)
  double adam_m = 0, adam_v = 0;          // Adam on log T: moments
  long adam_t = 0;                        // and steps taken
  double log_T = 0, log_T_avg = 0, T = 0;  // the trajectory length, its running average, the length used
  bool has_widest = false;                // false: a state saved before the widest direction was learned
  double widest_points = 1, widest_var = 1;
  std::vector<double> widest_v;           // unit length, one value per dimension

  static constexpr std::size_t kFields = 12, kFieldsBefore = 10;
  static bool fits(std::size_t size, std::size_t dim) { return size == kFields + dim || size == kFieldsBefore; }

  std::vector<double> encode() const {
    std::vector<double> e{da.mu, da.s_bar, da.x_bar, da.counter, adam_m, adam_v, static_cast<double>(adam_t),
                          log_T, log_T_avg, T, widest_points, widest_var};
    e.insert(e.end(), widest_v.begin(), widest_v.end());
    return e;
  }

  static CheesShared decode(const std::vector<double>& e, std::size_t dim) {
    if (!fits(e.size(), dim)) throw std::invalid_argument("sampler='chees': a saved state's shared adaptation is malformed");
    CheesShared s;
    s.da.mu = e[0], s.da.s_bar = e[1], s.da.x_bar = e[2], s.da.counter = e[3];
    s.adam_m = e[4], s.adam_v = e[5], s.adam_t = static_cast<long>(e[6]);
    s.log_T = e[7], s.log_T_avg = e[8], s.T = e[9];
    s.has_widest = e.size() == kFields + dim;
    if (s.has_widest) {
      s.widest_points = e[10], s.widest_var = e[11];
      s.widest_v.assign(e.begin() + kFields, e.end());
    }
    return s;
  }
};

}  // namespace brr::infer
