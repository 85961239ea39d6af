// Thread pool over chains and per-draw recording of positions and sampler statistics.
#include "infer/nuts/sampler.hpp"

#include <algorithm>
#include <exception>

namespace brr::infer {

SamplerRun::SamplerRun(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                       std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume)
    : factory_(std::move(factory)), cfg_(cfg), inits_(std::move(inits)), resume_(std::move(resume)) {
  const int dim = static_cast<int>(factory_->dim());
  for (int c = 0; c < cfg_.chains; ++c) {
    // rows this chain records: from where it starts (a resumed state's iteration) to its total
    const bool resumed = c < static_cast<int>(resume_.size()) && resume_[c].has_value();
    const int start = resumed ? resume_[c]->iteration : 0;
    const int first_kept = cfg_.keep_warmup ? start : std::max(start, cfg_.chain.tune);
    const int rows = std::max(0, cfg_.total(c) - first_kept);
    auto t = std::make_unique<ChainTrace>();
    t->allocate(dim, rows);
    traces.push_back(std::move(t));
  }
}

SamplerRun::~SamplerRun() {
  stop();
  join();
}

void SamplerRun::start() {
  const int n = std::max(1, std::min(cfg_.threads, cfg_.chains));
  started_threads_.store(n);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { worker(); });
}

void SamplerRun::join() {
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

void SamplerRun::worker() {
  for (int c = next_chain_.fetch_add(1); c < cfg_.chains; c = next_chain_.fetch_add(1)) run_chain(c);
  finished_threads_.fetch_add(1);
}

void SamplerRun::run_chain(int c) {
  ChainTrace& t = *traces[c];
  try {
    std::unique_ptr<LogDensity> density = factory_->make();
    ChainConfig cc = cfg_.chain;
    cc.chain = static_cast<int>(cfg_.chain_id(c));
    const std::vector<double> none;
    Chain chain(*density, cc, c < static_cast<int>(inits_.size()) ? inits_[c] : none);
    if (c < static_cast<int>(resume_.size()) && resume_[c].has_value()) chain.restore(*resume_[c]);
    const int total = cfg_.total(c);
    const int start = chain.state().iteration;
    int answered = 0;
    t.step_size.store(chain.step_size());
    for (int it = start; it < total && !stop_.load(); ++it) {
      const bool warm = chain.warmup();
      const double eps = chain.step_size();
      TransitionStats s = chain.step();
      if (s.divergent() && !warm) t.divergences.fetch_add(1);
      if (!warm || cfg_.keep_warmup)
        t.record(chain.position().data(), eps, s.energy, s.energy_error, s.accept_stat, s.logp, s.depth,
                 s.n_leapfrog, s.reason, warm);
      t.step_size.store(chain.step_size());
      t.done.store(it + 1);
      if (snapshot_due(cfg_.snapshot_every, start, it + 1, total, answered))
        t.push_snapshot({t.saved.load(), chain.gradient_evals(), chain.state()});
    }
    t.grad_evals = chain.gradient_evals();
    t.final_state = chain.state();
    t.has_state = true;
  } catch (const std::exception& e) {
    t.error = e.what();
  }
}

void ChainTrace::allocate(int dim_, int rows) {
  dim = dim_;
  capacity = rows;
  draws.assign(static_cast<std::size_t>(rows) * dim, 0.0);
  for (auto* v : {&step, &energy, &energy_error, &accept, &lp}) v->assign(rows, 0.0);
  depth.assign(rows, 0);
  n_steps.assign(rows, 0);
  diverging.assign(rows, 0);
  divergence_reason.assign(rows, 0);
  warmup.assign(rows, 0);
}

void ChainTrace::record(const double* q, double eps, double energy_, double energy_err, double accept_,
                        double logp, int depth_, int n_steps_, Divergence reason, bool warm) {
  const int r = saved.load();
  if (r >= capacity) return;
  std::copy(q, q + dim, draws.begin() + static_cast<std::size_t>(r) * dim);
  step[r] = eps;
  energy[r] = energy_;
  energy_error[r] = energy_err;
  accept[r] = accept_;
  lp[r] = logp;
  depth[r] = depth_;
  n_steps[r] = n_steps_;
  diverging[r] = reason != Divergence::None;
  divergence_reason[r] = static_cast<uint8_t>(reason);
  warmup[r] = warm;
  saved.store(r + 1);
}

}  // namespace brr::infer
