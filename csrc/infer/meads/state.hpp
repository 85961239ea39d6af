// The codec of what a MEADS chain's saved state holds beside its position, RNG, step size and metric (eps
// and sigma^2 after warm-up): its fold, slice value, the fixed damping and slice drift, and its momentum,
// as ChainState::ensemble's numbers. The one place that knows their order.
#pragma once
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace brr::infer {

struct GhmcChainState {
  int fold = 0;
  double slice = 0, alpha = 1, delta = 0.5;
  std::vector<double> momentum;  // whitened: per unit of sigma

  static constexpr std::size_t kHeader = 4;
  static bool fits(std::size_t size, std::size_t dim) { return size == kHeader + dim; }

  std::vector<double> encode() const {
    std::vector<double> e{static_cast<double>(fold), slice, alpha, delta};
    e.insert(e.end(), momentum.begin(), momentum.end());
    return e;
  }

  // folds: the run's fold count, which a saved fold must fall inside
  static GhmcChainState decode(const std::vector<double>& e, std::size_t dim, int folds) {
    if (!fits(e.size(), dim)) throw std::invalid_argument("sampler='meads': a saved chain state is malformed");
    if (!(e[0] >= 0 && e[0] < folds) || e[0] != std::floor(e[0]))
      throw std::invalid_argument("sampler='meads': a saved chain state has no valid fold");
    GhmcChainState s;
    s.fold = static_cast<int>(e[0]);
    s.slice = e[1], s.alpha = e[2], s.delta = e[3];
    s.momentum.assign(e.begin() + kHeader, e.end());
    return s;
  }
};

}  // namespace brr::infer
