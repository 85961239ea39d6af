// What the lock-step ensembles (ChEES, MEADS) share: their Run's skeleton (one background thread for
// all chains, the checks of a resumed ensemble, the traces), a usable point (finite log density and
// gradient) and each chain's starting point, found as NUTS finds one.
#pragma once
#include <atomic>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "infer/log_density.hpp"
#include "infer/rng.hpp"
#include "infer/run.hpp"

namespace brr::infer {

// false: the trajectory ends there; a fatal status (a bug in the density) is thrown. Call the density
// first and pass its status: as usable(density.logp_grad(x, g, lp), lp, ...) the compiler may read lp
// before the call writes it (argument order is unspecified), which let ChEES and MEADS start where the
// log density was NaN.
inline bool usable(LogpStatus st, double logp, const double* grad, std::size_t d) {
  if (st == LogpStatus::Fatal) throw std::runtime_error("the log density failed (see the error above)");
  if (st != LogpStatus::Ok || !std::isfinite(logp)) return false;
  for (std::size_t i = 0; i < d; ++i)
    if (!std::isfinite(grad[i])) return false;
  return true;
}

// Chain c's starting point into q (its gradient into g, its log density into lp): the given initial
// values, else up to max_init_tries draws from uniform(-init_radius, init_radius) on the chain's RNG.
// Returns the number of evaluations; throws when no usable point was found.
inline long long find_start(LogDensity& density, Rng& rng, const SamplerConfig& cfg, const std::vector<double>* init,
                            std::vector<double>& q, std::vector<double>& g, double& lp) {
  const std::size_t d = q.size();
  const bool given = init && !init->empty();
  long long evals = 0;
  for (int tries = 0; tries < (given ? 1 : cfg.chain.max_init_tries); ++tries) {
    if (given) q = *init;
    else
      for (std::size_t i = 0; i < d; ++i) q[i] = cfg.chain.init_radius * (2.0 * rng.uniform() - 1.0);
    ++evals;
    const LogpStatus st = density.logp_grad(q.data(), g.data(), lp);  // before usable() reads lp
    if (usable(st, lp, g.data(), d)) return evals;
  }
  throw std::runtime_error(given ? "the log density or its gradient is not finite at the given initial values"
                                 : "could not find a starting point with finite log density and gradient in "
                                   "uniform(-2, 2); check the model or pass init=");
}

// A lock-step run's ensemble_fits: the chain's state holds an E (CheesShared, GhmcChainState) of this dimension.
template <class E>
bool holds(const ChainState& s, std::size_t dim) {
  const E* e = std::get_if<E>(&s.ensemble);
  return e && e->fits(dim);
}

// A run whose chains all step together on one background thread. The constructor checks what every
// ensemble needs (the same total for every chain; a resumed run: a state for every chain, all at one
// iteration, each with an ensemble state that ensemble_fits(state, dimension) accepts) and allocates the traces.
class LockstepRun : public Run {
 public:
  // run() on the background thread; an error it throws ends every chain with that message
  void start() override {
    thread_ = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) {
        for (auto& t : traces) t->error = e.what();
      }
      finished_.store(true);
    });
  }
  bool finished() const override { return finished_.load(); }
  void join() override {
    if (thread_.joinable()) thread_.join();
  }

 protected:
  // name: as the user writes it ("chees"); title: as its papers do ("ChEES"), for messages
  LockstepRun(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg, std::vector<std::vector<double>> inits,
              std::vector<std::optional<ChainState>> resume, const std::string& name, const std::string& title,
              bool (*ensemble_fits)(const ChainState& state, std::size_t dim))
      : factory_(std::move(factory)), cfg_(std::move(cfg)), inits_(std::move(inits)), resume_(std::move(resume)) {
    const std::string who = "sampler='" + name + "'";
    for (int c = 1; c < cfg_.chains; ++c)
      if (cfg_.total(c) != cfg_.total(0))
        throw std::invalid_argument(who + " runs its chains in lock-step: every chain needs the same total");
    const std::size_t d = factory_->dim();
    int start = 0;
    if (!resume_.empty()) {
      if (static_cast<int>(resume_.size()) != cfg_.chains)
        throw std::invalid_argument(who + " resumes every chain or none: got states for " +
                                    std::to_string(resume_.size()) + " of " + std::to_string(cfg_.chains) + " chains");
      for (const auto& st : resume_) {
        if (!st || !ensemble_fits(*st, d))
          throw std::invalid_argument(who + " can only resume states saved by a " + title + " run");
        if (st->iteration != resume_[0]->iteration || st->position.size() != d || st->inv_metric.size() != d)
          throw std::invalid_argument(who + ": the saved chain states disagree (iteration or dimension)");
      }
      start = resume_[0]->iteration;
    }
    const int first_kept = cfg_.keep_warmup ? start : std::max(start, cfg_.chain.tune);
    const int rows = std::max(0, cfg_.total(0) - first_kept);
    for (int c = 0; c < cfg_.chains; ++c) {
      auto t = std::make_unique<ChainTrace>();
      t->allocate(static_cast<int>(d), rows);
      traces.push_back(std::move(t));
    }
  }
  // A derived run's destructor calls this first: the thread uses its members.
  void halt() {
    stop();
    join();
  }
  ~LockstepRun() override { halt(); }
  // the chains' whole run
  virtual void run() = 0;

  std::shared_ptr<const LogDensityFactory> factory_;
  SamplerConfig cfg_;
  std::vector<std::vector<double>> inits_;
  std::vector<std::optional<ChainState>> resume_;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace brr::infer
