// A chain's settings and its resumable state, shared by every sampler family: NUTS steps one chain
// at a time (nuts/chain.hpp), the lock-step ensembles keep what is theirs in `ensemble`. Saved and
// loaded by name, with every earlier layout migrated, in state_codec.hpp.
#pragma once
#include <cstdint>
#include <variant>
#include <vector>

#include "infer/adaptation.hpp"
#include "infer/ensemble_state.hpp"
#include "infer/low_rank.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

// Stan: windowed variance. Fisher: nuts-rs's gradient-based diagonal inside Stan's windows.
// Nutpie: the Fisher diagonal on nutpie's schedule (foreground/background estimators, every draw).
enum class AdaptKind { Stan, Fisher, Nutpie };

// A lock-step sampler's own part of a chain's state: none (NUTS), ChEES's shared adaptation, a MEADS chain's.
using EnsembleState = std::variant<std::monostate, CheesShared, GhmcChainState>;

struct ChainConfig {
  int tune = 1000;
  int draws = 1000;
  int max_depth = 10;
  double target_accept = 0.8;
  bool dense = false;
  bool low_rank = false;  // low-rank + diagonal metric (adapt must be Fisher: Stan's windows)
  AdaptKind adapt = AdaptKind::Stan;
  int init_buffer = 75, term_buffer = 50, base_window = 25;
  uint64_t seed = 0;
  int chain = 0;
  double init_radius = 2.0;
  int max_init_tries = 100;
  double initial_step_size = 1.0;
  // A warm start (bb.sample(warm_start=)): the diagonal inverse metric an earlier fit adapted, used from
  // the first iteration and blended into every later estimate as `warm_prior_draws` draws' worth of
  // evidence (empty: none; the chain starts from the unit metric as Stan does).
  std::vector<double> warm_inv_metric;
  double warm_prior_draws = 0;
};

// Everything needed to continue a chain exactly where it stopped.
struct ChainState {
  std::vector<double> position;
  double step_size = 1.0;
  int iteration = 0;
  DualAveraging dual_averaging;
  WindowSchedule windows;
  MetricEstimator estimator;
  MetricEstimator background;   // nutpie schedule only
  NutpieSchedule nutpie;
  std::vector<double> inv_metric;  // diagonal (dim) or dense (dim*dim)
  LowRankFactor low_rank;          // low-rank metric: its correction to the diagonal
  DrawWindow window;               // low-rank metric: the current window's draws
  Rng rng;
  // A lock-step sampler's own state: ChEES's shared adaptation (the same in every chain's state), a MEADS
  // chain's fold and momentum; none for NUTS. step_size, iteration and inv_metric above are shared by
  // such a sampler too.
  EnsembleState ensemble;
};

}  // namespace brr::infer
