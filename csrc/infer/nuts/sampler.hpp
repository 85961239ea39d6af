// NUTS: runs many chains on a pool of threads; chain c always uses RNG stream c, so the draws do not
// depend on the number of threads. Progress is readable while it runs; stop() ends it early.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "infer/nuts/chain.hpp"
#include "infer/run.hpp"

namespace brr::infer {

class SamplerRun : public Run {
 public:
  // inits: one vector per chain (empty = random); resume: per chain, the state to continue from (none:
  // the chain starts afresh, as a chain an interrupted run never started).
  SamplerRun(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
             std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume = {});
  ~SamplerRun() override;
  void start() override;
  // false until start() has run and every worker it started has ended (workers_ is not read here: it
  // grows on start()'s thread)
  bool finished() const override {
    const int n = started_threads_.load();
    return n > 0 && finished_threads_.load() == n;
  }
  void join() override;
  const SamplerConfig& config() const { return cfg_; }

 private:
  void worker();
  void run_chain(int c);
  std::shared_ptr<const LogDensityFactory> factory_;
  SamplerConfig cfg_;
  std::vector<std::vector<double>> inits_;
  std::vector<std::optional<ChainState>> resume_;
  std::atomic<int> next_chain_{0};
  std::atomic<int> started_threads_{0};
  std::atomic<int> finished_threads_{0};
  std::vector<std::thread> workers_;
};

}  // namespace brr::infer
