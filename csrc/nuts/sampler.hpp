// Runs many chains on a pool of threads; chain c always uses RNG stream c, so the draws do not
// depend on the number of threads. Progress is readable while it runs; stop() ends it early.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "nuts/chain.hpp"

namespace brr::nuts {

struct ChainTrace {
  int dim = 0, capacity = 0;
  std::atomic<int> saved{0};     // rows written
  std::atomic<int> done{0};      // iterations done (warm-up included)
  std::atomic<int> divergences{0};
  std::atomic<double> step_size{0.0};
  std::vector<double> draws;     // capacity x dim, unconstrained
  std::vector<double> step, energy, energy_error, accept, lp;
  std::vector<int32_t> depth, n_steps;
  std::vector<uint8_t> diverging, warmup;
  long long grad_evals = 0;
  std::string error;
  ChainState final_state;
  bool has_state = false;
};

struct SamplerConfig {
  ChainConfig chain;
  int chains = 4;
  int threads = 1;
  bool keep_warmup = false;
  // Per chain, the iteration to run until (warm-up included); empty: tune + draws for every chain.
  // A resumed run uses it to finish each chain of an interrupted run where it stopped, or to add draws.
  std::vector<int> totals;
  // Per chain, the RNG stream it uses; empty: chain c uses stream c. Lets chain c of a run be
  // sampled on its own (one task of a cluster run) and still draw what it draws beside the others.
  std::vector<uint64_t> chain_ids;
  uint64_t chain_id(int c) const { return chain_ids.empty() ? static_cast<uint64_t>(c) : chain_ids[static_cast<std::size_t>(c)]; }
  int total(int c) const { return totals.empty() ? chain.tune + chain.draws : totals[static_cast<std::size_t>(c)]; }
};

class SamplerRun {
 public:
  // inits: one vector per chain (empty = random); resume: per chain, the state to continue from (none:
  // the chain starts afresh, as a chain an interrupted run never started).
  SamplerRun(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
             std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume = {});
  ~SamplerRun();
  void start();
  void stop() { stop_.store(true); }
  bool finished() const { return finished_threads_.load() == static_cast<int>(workers_.size()); }
  void join();
  bool stopped() const { return stop_.load(); }
  const SamplerConfig& config() const { return cfg_; }
  std::vector<std::unique_ptr<ChainTrace>> traces;

 private:
  void worker();
  void run_chain(int c);
  std::shared_ptr<const LogDensityFactory> factory_;
  SamplerConfig cfg_;
  std::vector<std::vector<double>> inits_;
  std::vector<std::optional<ChainState>> resume_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_chain_{0};
  std::atomic<int> finished_threads_{0};
  std::vector<std::thread> workers_;
};

}  // namespace brr::nuts
