// One Markov chain: position, step size, metric, adaptation state and RNG, stepped one draw at a time.
#pragma once
#include <cstdint>
#include <vector>

#include "infer/chain_state.hpp"
#include "infer/log_density.hpp"
#include "infer/metric.hpp"
#include "infer/rng.hpp"
#include "infer/nuts/trajectory.hpp"
#include "infer/nuts/warmup.hpp"

namespace brr::infer {

class Chain : private WarmupHost {
 public:
  // init: unconstrained starting point, or empty for Stan's uniform(-radius, radius) with retries.
  Chain(LogDensity& density, const ChainConfig& config, const std::vector<double>& init);
  Chain(const Chain&) = delete;  // its trajectory and warm-up refer to its own metric and settings
  Chain& operator=(const Chain&) = delete;
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
  // WarmupHost: the warm-up's changes of metric and its step-size searches
  void set_metric(const std::vector<double>& inv) override;
  void set_low_rank_metric(const std::vector<double>& inv, const LowRankFactor& f) override;
  double search_step_size(double from) override { return nuts_.init_stepsize(z_, from, st_.rng); }
  ChainConfig cfg_;
  LogDensity& density_;
  ChainState st_;
  Metric metric_;
  Nuts nuts_;
  Warmup warmup_;
  PhasePoint z_;
  std::vector<double> prev_q_;  // position before a warm-up transition (nutpie: did the draw move?)
};

}  // namespace brr::infer
