// The MEADS ensemble: see meads.hpp.
#include "infer/meads/meads.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "infer/lockstep.hpp"
#include "infer/ensemble_state.hpp"
#include "infer/meads/transition.hpp"
#include "infer/meads/warmup.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

MeadsRun::MeadsRun(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                   std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume)
    : LockstepRun(std::move(factory), std::move(cfg), std::move(inits), std::move(resume), "meads", "MEADS",
                  holds<GhmcChainState>),
      set_(cfg_.meads) {
  const int K = set_.folds;
  // the number of chains is the registry's to check (registry.cpp: meads_chains)
  std::vector<int> per_fold(static_cast<std::size_t>(K), 0);
  for (const auto& st : resume_) {
    const int fold = std::get<GhmcChainState>(st->ensemble).fold;  // the base class checked it holds one
    if (fold >= K)
      throw std::invalid_argument("sampler='meads': a saved chain state's fold " + std::to_string(fold) +
                                  " is not one of this run's " + std::to_string(K));
    ++per_fold[static_cast<std::size_t>(fold)];
  }
  if (!resume_.empty())
    for (int n : per_fold)
      if (n != cfg_.chains / K) throw std::invalid_argument("sampler='meads': the saved states' folds are unequal");
}

void MeadsRun::run() {
  const std::size_t d = factory_->dim();
  const int B = cfg_.chains, K = set_.folds, tune = cfg_.chain.tune, total = cfg_.total(0);
  const bool resumed = !resume_.empty();
  std::vector<GhmcMember> ms(static_cast<std::size_t>(B));
  for (int c = 0; c < B; ++c) {
    GhmcMember& m = ms[c];
    m.density = factory_->make();
    m.rng = Rng(cfg_.chain.seed, cfg_.chain_id(c));
    for (auto* v : {&m.q, &m.g, &m.p}) v->assign(d, 0.0);
    m.prop.resize(d);
    if (resumed) {  // the gradient at the saved position is recomputed: the same function of it
      const ChainState& st = *resume_[c];
      m.q = st.position;
      m.rng = st.rng;
      const GhmcChainState& saved = std::get<GhmcChainState>(st.ensemble);
      m.fold = saved.fold;
      m.u = saved.slice;
      m.p = saved.momentum;
      ++m.grad_evals;
      const LogpStatus status = m.density->logp_grad(m.q.data(), m.g.data(), m.lp);  // before usable() reads m.lp
      if (!usable(status, m.lp, m.g.data(), d))
        throw std::runtime_error("resume: the log density is not finite at a saved chain position");
      continue;
    }
    m.grad_evals += find_start(*m.density, m.rng, cfg_, c < static_cast<int>(inits_.size()) ? &inits_[c] : nullptr,
                               m.q, m.g, m.lp);
    m.rng.normals(m.p.data(), d);
    m.u = 2.0 * m.rng.uniform() - 1.0;
    m.fold = c / (B / K);
  }
  const int threads = std::max(1, std::min(cfg_.threads, B));
  std::unique_ptr<BatchLogDensity> batch = factory_->make_batch(static_cast<std::size_t>(B), threads);
  MeadsWarmup warmup(d, B, tune, cfg_.chain.seed, set_);
  int it = resumed ? resume_[0]->iteration : 0;
  if (resumed) warmup.restore(*resume_[0], it);
  else warmup.init(ms);
  // where chain c stands before iteration `next`: a later run continues from here
  auto state_of = [&](int c, int next) {
    const GhmcMember& m = ms[c];
    ChainState st;
    st.position = m.q;
    st.iteration = next;
    st.rng = m.rng;
    warmup.save(m, st);
    return st;
  };
  const int start = it;
  int answered = 0;
  GhmcTransition transition(*batch, d);
  std::vector<const Tuning*> tunings(static_cast<std::size_t>(B));
  for (; it < total && !stop_.load(); ++it) {
    const bool warm = it < tune;
    warmup.update(ms, it, tunings);
    transition(ms, tunings, set_.divergence);
    for (int c = 0; c < B; ++c) {
      GhmcMember& m = ms[c];
      ChainTrace& t = *traces[c];
      const double eps = warmup.tuning(m, it).eps;
      if (m.divergent && m.moves && !warm) t.divergences.fetch_add(1);
      if (!warm || cfg_.keep_warmup) {
        if (m.moves)
          t.record(m.q.data(), eps, m.energy, m.energy_error, m.accept, m.lp, 0, 1,
                   divergence_of(m.divergent, m.energy_error, m.failure), warm);
        else  // the fold that stood still this iteration: its state again, no step taken
          t.record(m.q.data(), eps, m.energy, 0.0, m.accept, m.lp, 0, 0, Divergence::None, warm);
      }
      t.step_size.store(eps);
      t.done.store(it + 1);
      t.grad_evals = m.grad_evals;
    }
    warmup.after(ms, it);
    if (snapshot_due(cfg_.snapshot_every, start, it + 1, total, answered))
      for (int c = 0; c < B; ++c) traces[c]->push_snapshot({traces[c]->saved.load(), ms[c].grad_evals, state_of(c, it + 1)});
  }
  for (int c = 0; c < B; ++c) {
    traces[c]->final_state = state_of(c, it);
    traces[c]->has_state = true;
  }
}

}  // namespace brr::infer
