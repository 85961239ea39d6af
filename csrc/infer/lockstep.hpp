// What the lock-step ensembles (ChEES, MEADS) share: a usable point (finite log density and gradient)
// and each chain's starting point, found as NUTS finds one.
#pragma once
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "infer/log_density.hpp"
#include "infer/rng.hpp"
#include "infer/run.hpp"

namespace brr::infer {

// false: the trajectory ends there; a fatal status (a bug in the density) is thrown
inline bool usable(LogpStatus st, double logp, const double* grad, std::size_t d) {
  if (st == LogpStatus::Fatal) throw std::runtime_error("the log density failed (see the error above)");
  if (st != LogpStatus::Ok || !std::isfinite(logp)) return false;
  for (std::size_t i = 0; i < d; ++i)
    if (!std::isfinite(grad[i])) return false;
  return true;
}

// Chain c's starting point into q (its gradient into g, its log density into lp): the given initial
// values, else up to max_init_tries draws from uniform(-init_radius, init_radius) on the chain's RNG.
// Returns the number of evaluations; throws when no usable point was found.
inline long long find_start(LogDensity& density, Rng& rng, const SamplerConfig& cfg, const std::vector<double>* init,
                            std::vector<double>& q, std::vector<double>& g, double& lp) {
  const std::size_t d = q.size();
  const bool given = init && !init->empty();
  long long evals = 0;
  for (int tries = 0; tries < (given ? 1 : cfg.chain.max_init_tries); ++tries) {
    if (given) q = *init;
    else
      for (std::size_t i = 0; i < d; ++i) q[i] = cfg.chain.init_radius * (2.0 * rng.uniform() - 1.0);
    ++evals;
    if (usable(density.logp_grad(q.data(), g.data(), lp), lp, g.data(), d)) return evals;
  }
  throw std::runtime_error(given ? "the log density or its gradient is not finite at the given initial values"
                                 : "could not find a starting point with finite log density and gradient in "
                                   "uniform(-2, 2); check the model or pass init=");
}

}  // namespace brr::infer
