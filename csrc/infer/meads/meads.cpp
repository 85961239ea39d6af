// The MEADS ensemble: see meads.hpp.
#include "infer/meads/meads.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "infer/lockstep.hpp"
#include "infer/meads/state.hpp"
#include "infer/meads/transition.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

namespace {

// The paper's estimate of the largest eigenvalue of E[x x^T] from the rows x_1..x_n of X (n x d,
// row-major): sum of squared eigenvalues over their sum, both estimated without bias from the Gram
// matrix. Close to the largest eigenvalue unless many others are nearly as large; far less noisy.
double max_eigenvalue(const std::vector<double>& X, std::size_t n, std::size_t d) {
  double trace = 0.0, off = 0.0;
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a; b < n; ++b) {
      double s = 0.0;
      for (std::size_t i = 0; i < d; ++i) s += X[a * d + i] * X[b * d + i];
      if (a == b) trace += s;
      else off += 2.0 * s * s;
    }
  const double nn = static_cast<double>(n);
  return (off / (nn * (nn - 1.0))) / (trace / nn);
}

// The tuning drawn from chains `from` (their positions and gradients), at warm-up iteration t >= 1;
// a statistic that comes out degenerate (chains all equal in some coordinate, say) keeps the neutral
// value (scale 1, step 1).
Tuning tune_from(const std::vector<GhmcMember>& ms, const std::vector<int>& from, long t, const MeadsSettings& set) {
  const std::size_t n = from.size(), d = ms[0].q.size();
  Tuning out;
  std::vector<double> sigma(d, 1.0);
  std::vector<double> mean(d, 0.0), var(d, 0.0);
  for (int c : from)
    for (std::size_t i = 0; i < d; ++i) mean[i] += ms[c].q[i] / static_cast<double>(n);
  for (int c : from)
    for (std::size_t i = 0; i < d; ++i) var[i] += (ms[c].q[i] - mean[i]) * (ms[c].q[i] - mean[i]) / static_cast<double>(n);
  for (std::size_t i = 0; i < d; ++i) {
    const double s = std::sqrt(var[i]);
    if (s > 0 && std::isfinite(s)) sigma[i] = s;
  }
  out.set_sigma(std::move(sigma));
  std::vector<double> X(n * d);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t i = 0; i < d; ++i) X[a * d + i] = ms[from[a]].g[i] * out.sigma[i];
  const double lam_g = max_eigenvalue(X, n, d);
  if (lam_g > 0 && std::isfinite(lam_g)) out.eps = std::min(1.0, set.step_multiplier / std::sqrt(lam_g));
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t i = 0; i < d; ++i) X[a * d + i] = (ms[from[a]].q[i] - mean[i]) / out.sigma[i];
  const double lam_q = max_eigenvalue(X, n, d);
  double gamma = 1.0 / (static_cast<double>(t) * out.eps);  // strong damping early, less as warm-up goes on
  if (lam_q > 0 && std::isfinite(lam_q)) gamma = std::max(gamma, 1.0 / std::sqrt(lam_q));
  out.alpha = 1.0 - std::exp(-2.0 * out.eps * gamma);
  out.delta = 0.5 * out.alpha;
  return out;
}

// Every K iterations the chains are dealt to the folds afresh: a permutation drawn from the seed and
// the iteration alone, so that a resumed run deals as the uninterrupted one did.
void deal(std::vector<GhmcMember>& ms, int folds, uint64_t seed, long it) {
  std::vector<int> order(ms.size());
  std::iota(order.begin(), order.end(), 0);
  Rng r(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(it + 1)), 0);
  for (std::size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[r.next() % k]);
  const std::size_t per = ms.size() / static_cast<std::size_t>(folds);
  for (std::size_t j = 0; j < order.size(); ++j) ms[order[j]].fold = static_cast<int>(j / per);
}

}  // namespace

MeadsRun::MeadsRun(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                   std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume,
                   MeadsSettings settings)
    : LockstepRun(std::move(factory), std::move(cfg), std::move(inits), std::move(resume), "meads", "MEADS",
                  GhmcChainState::fits),
      set_(settings) {
  const int K = set_.folds;
  // the number of chains is the registry's to check (registry.cpp: meads_chains)
  std::vector<int> per_fold(static_cast<std::size_t>(K), 0);
  for (const auto& st : resume_)
    ++per_fold[static_cast<std::size_t>(GhmcChainState::decode(st->ensemble, factory_->dim(), K).fold)];
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
      const GhmcChainState saved = GhmcChainState::decode(st.ensemble, d, K);
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
  std::vector<int> all(static_cast<std::size_t>(B));
  std::iota(all.begin(), all.end(), 0);
  // after warm-up: one tuning for every chain, from all of them (a function of the states alone, so a
  // run resumed at any iteration continues with the same numbers)
  Tuning fixed;
  fixed.set_sigma(std::vector<double>(d, 1.0));
  int it = resumed ? resume_[0]->iteration : 0;
  if (resumed && it >= tune) {
    const ChainState& s0 = *resume_[0];
    fixed.eps = s0.step_size;
    std::vector<double> sigma(d);
    for (std::size_t i = 0; i < d; ++i) sigma[i] = std::sqrt(s0.inv_metric[i]);
    fixed.set_sigma(std::move(sigma));
    const GhmcChainState saved = GhmcChainState::decode(s0.ensemble, d, K);
    fixed.alpha = saved.alpha;
    fixed.delta = saved.delta;
  } else if (tune == 0) {
    fixed = tune_from(ms, all, 1, set_);
  }
  std::vector<Tuning> fold_tuning(static_cast<std::size_t>(K), fixed);  // each fold's, set before it is used
  std::vector<std::vector<int>> members(static_cast<std::size_t>(K));
  // where chain c stands before iteration `next`: a later run continues from here
  auto state_of = [&](int c, int next) {
    const GhmcMember& m = ms[c];
    ChainState st;
    st.position = m.q;
    st.step_size = fixed.eps;
    st.iteration = next;
    st.inv_metric.resize(d);
    for (std::size_t i = 0; i < d; ++i) st.inv_metric[i] = fixed.sigma[i] * fixed.sigma[i];
    st.rng = m.rng;
    st.ensemble = GhmcChainState{m.fold, m.u, fixed.alpha, fixed.delta, m.p}.encode();
    return st;
  };
  const int start = it;
  int answered = 0;
  GhmcTransition transition(*batch, d);
  std::vector<const Tuning*> tunings(static_cast<std::size_t>(B));
  for (; it < total && !stop_.load(); ++it) {
    const bool warm = it < tune;
    const int frozen = warm ? it % K : -1;
    if (warm) {
      for (auto& f : members) f.clear();
      for (int c = 0; c < B; ++c) members[static_cast<std::size_t>(ms[c].fold)].push_back(c);
      for (int k = 0; k < K; ++k)
        if (k != frozen)
          fold_tuning[k] = tune_from(ms, members[static_cast<std::size_t>((k + K - 1) % K)], it + 1, set_);
    }
    auto tuning_of = [&](const GhmcMember& m) -> const Tuning& { return warm ? fold_tuning[m.fold] : fixed; };
    for (int c = 0; c < B; ++c) tunings[c] = ms[c].fold != frozen ? &tuning_of(ms[c]) : nullptr;
    transition(ms, tunings, set_.divergence);
    for (int c = 0; c < B; ++c) {
      GhmcMember& m = ms[c];
      ChainTrace& t = *traces[c];
      const double eps = tuning_of(m).eps;
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
    if (warm && (it + 1) % K == 0) deal(ms, K, cfg_.chain.seed, it);
    if (it + 1 == tune) fixed = tune_from(ms, all, tune, set_);
    if (snapshot_due(cfg_.snapshot_every, start, it + 1, total, answered))
      for (int c = 0; c < B; ++c) traces[c]->push_snapshot({traces[c]->saved.load(), ms[c].grad_evals, state_of(c, it + 1)});
  }
  for (int c = 0; c < B; ++c) {
    traces[c]->final_state = state_of(c, it);
    traces[c]->has_state = true;
  }
}

}  // namespace brr::infer
