// The ChEES-HMC ensemble: see chees.hpp.
#include "infer/chees/chees.hpp"

#include <algorithm>
#include <stdexcept>

#include "infer/hamiltonian.hpp"
#include "infer/ensemble_state.hpp"
#include "infer/chees/transition.hpp"
#include "infer/chees/warmup.hpp"
#include "infer/lockstep.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

CheesRun::CheesRun(std::shared_ptr<const infer::LogDensityFactory> factory, infer::SamplerConfig cfg,
                   std::vector<std::vector<double>> inits, std::vector<std::optional<infer::ChainState>> resume)
    : LockstepRun(std::move(factory), std::move(cfg), std::move(inits), std::move(resume), "chees", "ChEES",
                  holds<CheesShared>),
      set_(cfg_.chees) {}

void CheesRun::run() {
  const std::size_t d = factory_->dim();
  const int B = cfg_.chains, tune = cfg_.chain.tune, total = cfg_.total(0);
  const bool resumed = !resume_.empty();
  std::vector<EnsembleMember> ms(static_cast<std::size_t>(B));
  for (int c = 0; c < B; ++c) {
    EnsembleMember& m = ms[c];
    m.density = factory_->make();
    m.rng = infer::Rng(cfg_.chain.seed, cfg_.chain_id(c));
    for (auto* v : {&m.q, &m.g, &m.q0}) v->assign(d, 0.0);
    m.prop.resize(d);
    if (resumed) {  // the gradient at the saved position is recomputed: the same function of it
      m.q = resume_[c]->position;
      m.rng = resume_[c]->rng;
      if (!m.eval(m.q.data(), m.g.data(), m.lp))
        throw std::runtime_error("resume: the log density is not finite at a saved chain position");
      continue;
    }
    m.grad_evals += find_start(*m.density, m.rng, cfg_, c < static_cast<int>(inits_.size()) ? &inits_[c] : nullptr,
                               m.q, m.g, m.lp);
  }
  const int threads = std::max(1, std::min(cfg_.threads, B));
  std::unique_ptr<infer::BatchLogDensity> batch = factory_->make_batch(static_cast<std::size_t>(B), threads);
  CheesWarmup warmup(d, tune, set_);
  infer::Metric metric(d, false);  // follows the warm-up's metric
  infer::Hamiltonian ham(metric);
  EnsembleTransition transition(*batch, d);
  // L leapfrog steps of size eps for every chain
  auto for_all = [&](int L, double eps) { transition(ms, ham, L, eps); };
  int start = 0;
  if (resumed) {
    warmup.restore(*resume_[0]);
    metric.set_inv_diag(warmup.inv_metric());
    start = resume_[0]->iteration;
  } else {
    warmup.init(ms, for_all, cfg_.chain.initial_step_size);
  }
  // where chain c stands before iteration `next`: a later run continues from here
  auto state_of = [&](int c, int next) {
    infer::ChainState st;
    st.position = ms[c].q;
    st.iteration = next;
    st.rng = ms[c].rng;
    warmup.save(st);
    return st;
  };
  int answered = 0;
  int it = start;
  for (; it < total && !stop_.load(); ++it) {
    const bool warm = it < tune;
    const CheesPlan plan = warmup.plan(it);
    const double eps_run = warmup.step_size();
    for_all(plan.L, eps_run);
    if (warm) {
      if (warmup.update(ms, it, plan)) metric.set_inv_diag(warmup.inv_metric());
      if (it + 1 == tune) warmup.final();
    }
    const double eps = warmup.step_size();
    for (int c = 0; c < B; ++c) {
      EnsembleMember& m = ms[c];
      infer::ChainTrace& t = *traces[c];
      if (m.divergent && !warm) t.divergences.fetch_add(1);
      if (!warm || cfg_.keep_warmup)
        t.record(m.q.data(), eps, m.energy, m.energy_error, m.accept, m.lp, 0, plan.L,
                 divergence_of(m.divergent, m.energy_error, m.failure), warm);
      t.step_size.store(eps);
      t.done.store(it + 1);
      t.grad_evals = m.grad_evals;
    }
    if (snapshot_due(cfg_.snapshot_every, start, it + 1, total, answered))
      for (int c = 0; c < B; ++c) traces[c]->push_snapshot({traces[c]->saved.load(), ms[c].grad_evals, state_of(c, it + 1)});
  }
  for (int c = 0; c < B; ++c) {
    traces[c]->final_state = state_of(c, it);
    traces[c]->has_state = true;
  }
}

}  // namespace brr::infer
