// One Markov chain: position, step size, metric, adaptation state and RNG, stepped one draw at a time.
#pragma once
#include <cstdint>
#include <vector>

#include "infer/adaptation.hpp"
#include "infer/log_density.hpp"
#include "infer/metric.hpp"
#include "infer/rng.hpp"
#include "infer/nuts/trajectory.hpp"

namespace brr::infer {

// Stan: windowed variance. Fisher: nuts-rs's gradient-based diagonal inside Stan's windows.
// Nutpie: the Fisher diagonal on nutpie's schedule (foreground/background estimators, every draw).
enum class AdaptKind { Stan, Fisher, Nutpie };

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
  // A lock-step sampler's shared adaptation, the same in every chain's state (ChEES: see chees.hpp);
  // empty for NUTS. step_size, iteration and inv_metric above are shared by such a sampler too.
  std::vector<double> ensemble;
};

class Chain {
 public:
  // init: unconstrained starting point, or empty for Stan's uniform(-radius, radius) with retries.
  Chain(LogDensity& density, const ChainConfig& config, const std::vector<double>& init);
  TransitionStats step();
  bool warmup() const { return st_.iteration < cfg_.tune; }
  const std::vector<double>& position() const { return z_.q; }
  const std::vector<double>& gradient() const { return z_.g; }
  double step_size() const { return st_.step_size; }
  long long gradient_evals() const { return nuts_.gradient_evals(); }
  ChainState state() const;
  void restore(const ChainState& s);

 private:
  void initialize(const std::vector<double>& init);
  void set_metric(const std::vector<double>& inv);
  void adapt_windowed(const TransitionStats& s);
  void adapt_nutpie(const TransitionStats& s, bool moved);
  void reinit_step_size();
  void set_low_rank_metric();
  static constexpr long kLowRankDraws = 64;  // draws kept per window for the low-rank estimate
  ChainConfig cfg_;
  LogDensity& density_;
  ChainState st_;
  Metric metric_;
  Nuts nuts_;
  PhasePoint z_;
  std::vector<double> prev_q_;  // position before a warm-up transition (nutpie: did the draw move?)
};

}  // namespace brr::infer
