// A NUTS chain's warm-up as BlackJAX shapes it: init (the schedules, estimators, first metric and step
// size for a chain at its starting point), update (one warm-up transition's acceptance and point) and
// final (the step size sampling keeps). Its state is the chain's resumable ChainState; the chain it
// tunes owns the metric and Stan's step-size search, and lends them through WarmupHost.
#pragma once
#include <vector>

#include "infer/chain_state.hpp"
#include "infer/hamiltonian.hpp"
#include "infer/low_rank.hpp"

namespace brr::infer {

// What a warm-up asks of the chain it tunes.
class WarmupHost {
 public:
  virtual void set_metric(const std::vector<double>& inv) = 0;                    // diagonal or dense
  virtual void set_low_rank_metric(const std::vector<double>& inv, const LowRankFactor& f) = 0;
  virtual double search_step_size(double from) = 0;  // Stan's heuristic at the chain's point

 protected:
  ~WarmupHost() = default;
};

class Warmup {
 public:
  // config: the chain's own, which outlives the warm-up (a dense warm start's d x d metric is not copied);
  // throws on a metric the chosen adaptation cannot estimate
  explicit Warmup(const ChainConfig& config);
  // The schedules and estimators, the first metric (a warm start's, nutpie's from the gradient at z, or
  // the unit metric the host starts with) and the first step size.
  void init(ChainState& st, WarmupHost& host, const PhasePoint& z) const;
  // After warm-up transition st.iteration with acceptance statistic accept_stat, ending at z;
  // moved: z differs from the transition's start (nutpie skips draws that did not move).
  void update(ChainState& st, WarmupHost& host, const PhasePoint& z, double accept_stat, bool moved) const;
  // After the last warm-up transition's update: the step size sampling keeps (dual averaging's mean).
  void final(ChainState& st) const { st.step_size = st.dual_averaging.final_step_size(); }
  bool needs_moved() const { return cfg_.adapt == AdaptKind::Nutpie; }

 private:
  void windowed(ChainState& st, WarmupHost& host, const PhasePoint& z, double accept_stat) const;
  void nutpie(ChainState& st, WarmupHost& host, const PhasePoint& z, double accept_stat, bool moved) const;
  // e's estimate, blended with a warm start's metric when there is one (ChainConfig::warm_inv_metric)
  std::vector<double> estimated_metric(const MetricEstimator& e) const;
  void set_low_rank_metric(ChainState& st, WarmupHost& host) const;
  void restart_step_size(ChainState& st, WarmupHost& host) const;
  static std::vector<double> as_dense(const std::vector<double>& diag);
  static constexpr long kLowRankDraws = 64;  // draws kept per window for the low-rank estimate
  const ChainConfig& cfg_;
};

}  // namespace brr::infer
