// ChEES's warm-up as BlackJAX shapes an adaptation: init (the first step size, searched from the chains'
// starting points) or restore (a saved state's shared adaptation), plan (an iteration's jitter, trajectory
// length and leapfrog steps), update (after a warm-up iteration's transitions: step size, trajectory
// length, metric, widest direction) and final (the step size sampling keeps). What it learns is shared by
// every chain and saved beside each (infer/ensemble_state.hpp); see chees.hpp for the method.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "infer/adaptation.hpp"
#include "infer/chain_state.hpp"
#include "infer/chees/transition.hpp"
#include "infer/sampler_options.hpp"

namespace brr::infer {

// An iteration's trajectory: jitter u in (0, 1), the length it runs and its leapfrog steps
struct CheesPlan {
  double u = 0, T_run = 0;
  int L = 1;
};

class CheesWarmup {
 public:
  CheesWarmup(std::size_t dim, int tune, const CheesSettings& settings);
  ~CheesWarmup();
  // A fresh run: the first step size from `initial`, doubled or halved until one leapfrog step's mean
  // acceptance over the chains crosses 0.8; run_all(L, eps) moves every chain of ms, which are put back.
  void init(std::vector<EnsembleMember>& ms, const std::function<void(int, double)>& run_all, double initial);
  // A resumed run: the adaptation saved in a chain's state (every chain holds the same).
  void restore(const ChainState& saved);
  CheesPlan plan(int it) const;
  // After warm-up iteration it ran `plan`, the chains ms at their new states; true when the metric changed.
  bool update(const std::vector<EnsembleMember>& ms, int it, const CheesPlan& plan);
  void final() { eps_ = da_.final_step_size(); }
  // The shared part of every chain's saved state: step size, metric, and the codec's numbers.
  void save(ChainState& st) const;
  double step_size() const { return eps_; }
  const std::vector<double>& inv_metric() const { return minv_; }

 private:
  struct Learned;  // Adam on log T and the widest direction
  CheesSettings set_;
  int tune_, freeze_;
  double eps_ = 1.0, log_T_ = 0, log_T_avg_ = 0, T_ = 0;
  DualAveraging da_;
  std::vector<double> minv_;  // the adapted diagonal metric
  std::vector<double> mean_prop_, mean_init_, mean_q_, var_q_;  // scratch of the dimension
  std::unique_ptr<Learned> learned_;
};

}  // namespace brr::infer
