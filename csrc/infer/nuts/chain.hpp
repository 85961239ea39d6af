// One Markov chain: position, step size, metric, adaptation state and RNG, stepped one draw at a time.
#pragma once
#include <cstdint>
#include <vector>

#include "infer/adaptation.hpp"
#include "infer/chain_state.hpp"
#include "infer/log_density.hpp"
#include "infer/metric.hpp"
#include "infer/rng.hpp"
#include "infer/nuts/trajectory.hpp"

namespace brr::infer {

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
  // e's estimate, blended with a warm start's metric when there is one (ChainConfig::warm_inv_metric)
  std::vector<double> estimated_metric(const MetricEstimator& e) const;
  static std::vector<double> as_dense(const std::vector<double>& diag);
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
