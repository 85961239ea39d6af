// What every sampler's run looks like from outside: chains recorded into traces while it runs in
// background threads, with progress readable and stop() ending it early. NUTS (SamplerRun, one
// thread per chain) and the lock-step ensembles (ChEES) both implement it, so the bindings and the
// Python side drive them the same way; make_run picks one by name (the sampler registry).
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infer/chain_state.hpp"
#include "infer/log_density.hpp"

namespace brr::infer {

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
  bool has_state = false;        // a per-chain state a later run can resume from (NUTS only)

  void allocate(int dim_, int rows);
  // records row `saved` (when there is room) of one transition
  void record(const double* q, double eps, double energy_, double energy_err, double accept_, double logp,
              int depth_, int n_steps_, bool divergent, bool warm);
};

struct SamplerConfig {
  ChainConfig chain;
  std::string sampler = "nuts";  // "nuts", "chees" or "meads"
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

class Run {
 public:
  virtual ~Run() = default;
  virtual void start() = 0;
  virtual bool finished() const = 0;
  virtual void join() = 0;
  void stop() { stop_.store(true); }
  bool stopped() const { return stop_.load(); }
  std::vector<std::unique_ptr<ChainTrace>> traces;

 protected:
  std::atomic<bool> stop_{false};
};

// The sampler registry: a run of cfg.sampler. inits: one vector per chain (empty = random); resume:
// per chain, a state to continue from (NUTS only).
std::unique_ptr<Run> make_run(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                              std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume);
// The names make_run knows, for error messages.
std::vector<std::string> sampler_names();

}  // namespace brr::infer
