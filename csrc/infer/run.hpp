// What every sampler's run looks like from outside: chains recorded into traces while it runs in
// background threads, with progress readable and stop() ending it early. NUTS (SamplerRun, one
// thread per chain) and the lock-step ensembles (ChEES) both implement it, so the bindings and the
// Python side drive them the same way; make_run picks one by name (the sampler registry).
#pragma once
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "infer/chain_state.hpp"
#include "infer/log_density.hpp"
#include "infer/sampler_options.hpp"

namespace brr::infer {

// Where a chain stood at the end of an iteration, taken while the run goes on: a checkpoint needs no
// stop (stopping every chain to save lined them up at each checkpoint, and restarted them).
struct Snapshot {
  int rows = 0;               // rows recorded by then
  long long grad_evals = 0;
  ChainState state;           // a run resumed from it continues exactly as this one goes on
};

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
  std::vector<uint8_t> divergence_reason;  // a Divergence code per row (common/divergence.hpp)
  long long grad_evals = 0;
  std::string error;
  ChainState final_state;
  bool has_state = false;        // a per-chain state a later run can resume from (NUTS only)

  void allocate(int dim_, int rows);
  void push_snapshot(Snapshot s) {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    snapshots_.push_back(std::move(s));
  }
  // the snapshots taken since the last call, oldest first
  std::vector<Snapshot> take_snapshots() {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    return std::exchange(snapshots_, {});
  }
  // records row `saved` (when there is room) of one transition; divergent when `reason` is not None
  void record(const double* q, double eps, double energy_, double energy_err, double accept_, double logp,
              int depth_, int n_steps_, Divergence reason, bool warm);

 private:
  std::mutex snapshot_mutex_;
  std::vector<Snapshot> snapshots_;
};

// An ensemble member's divergence by cause (ChEES, MEADS): a finite energy error over the threshold, else
// a point whose log density or gradient was not usable, by the density's cause (`failure`) where it gave one.
inline Divergence divergence_of(bool divergent, double energy_error, Divergence failure) {
  if (!divergent) return Divergence::None;
  if (std::isfinite(energy_error)) return Divergence::Energy;
  return failure == Divergence::None ? Divergence::NotFinite : failure;
}

struct SamplerConfig {
  ChainConfig chain;             // NUTS's options among its chain settings
  std::string sampler = "nuts";  // "nuts", "chees" or "meads"
  CheesSettings chees;           // the lock-step samplers' options (sampler_options.hpp)
  MeadsSettings meads;
  int chains = 4;
  int threads = 1;
  bool keep_warmup = false;
  // Per chain, the iteration to run until (warm-up included); empty: tune + draws for every chain.
  // A resumed run uses it to finish each chain of an interrupted run where it stopped, or to add draws.
  std::vector<int> totals;
  // Per chain, the RNG stream it uses; empty: chain c uses stream c. Lets chain c of a run be
  // sampled on its own (one task of a cluster run) and still draw what it draws beside the others.
  std::vector<uint64_t> chain_ids;
  // A snapshot of every chain each `snapshot_every` iterations from where it started (0: only when asked).
  int snapshot_every = 0;
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
  // every chain takes a snapshot at the end of its current iteration (a checkpoint on a timer)
  void request_snapshot() { snapshot_requests_.fetch_add(1); }
  std::vector<std::unique_ptr<ChainTrace>> traces;

 protected:
  // Whether a chain now standing before iteration `next` takes a snapshot: each `every` iterations
  // from `start`, or once after request_snapshot() (`answered`: the requests it has seen). Not at the
  // end: the run's final state is its own record.
  bool snapshot_due(int every, int start, int next, int total, int& answered) const {
    const int asked = snapshot_requests_.load();
    const bool requested = asked != answered;
    answered = asked;
    return next < total && (requested || (every > 0 && (next - start) % every == 0));
  }
  std::atomic<bool> stop_{false};
  std::atomic<int> snapshot_requests_{0};
};

// The sampler registry: a run of cfg.sampler. inits: one vector per chain (empty = random); resume:
// per chain, a state to continue from (NUTS only).
std::unique_ptr<Run> make_run(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                              std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume);
// The names make_run knows, for error messages.
std::vector<std::string> sampler_names();

}  // namespace brr::infer
