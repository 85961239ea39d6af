// MEADS's warm-up: see warmup.hpp, and meads.hpp for the method.
#include "infer/meads/warmup.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "infer/ensemble_state.hpp"
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

MeadsWarmup::MeadsWarmup(std::size_t dim, int chains, int tune, uint64_t seed, const MeadsSettings& settings)
    : set_(settings), tune_(tune), seed_(seed), all_(static_cast<std::size_t>(chains)) {
  std::iota(all_.begin(), all_.end(), 0);
  fixed_.set_sigma(std::vector<double>(dim, 1.0));
  fold_tuning_.assign(static_cast<std::size_t>(set_.folds), fixed_);
  members_.resize(static_cast<std::size_t>(set_.folds));
}

void MeadsWarmup::init(const std::vector<GhmcMember>& ms) {
  if (tune_ == 0) fixed_ = tune_from(ms, all_, 1, set_);
}

void MeadsWarmup::restore(const ChainState& s0, int iteration) {
  if (iteration < tune_) return;  // in warm-up: the tunings are functions of the chains' states
  const std::size_t d = s0.inv_metric.size();
  fixed_.eps = s0.step_size;
  std::vector<double> sigma(d);
  for (std::size_t i = 0; i < d; ++i) sigma[i] = std::sqrt(s0.inv_metric[i]);
  fixed_.set_sigma(std::move(sigma));
  const GhmcChainState& saved = std::get<GhmcChainState>(s0.ensemble);
  fixed_.alpha = saved.alpha;
  fixed_.delta = saved.delta;
}

void MeadsWarmup::update(const std::vector<GhmcMember>& ms, int it, std::vector<const Tuning*>& tunings) {
  const int K = set_.folds, B = static_cast<int>(ms.size());
  const bool warm = it < tune_;
  const int frozen = warm ? it % K : -1;
  if (warm) {
    for (auto& f : members_) f.clear();
    for (int c = 0; c < B; ++c) members_[static_cast<std::size_t>(ms[c].fold)].push_back(c);
    for (int k = 0; k < K; ++k)
      if (k != frozen) fold_tuning_[k] = tune_from(ms, members_[static_cast<std::size_t>((k + K - 1) % K)], it + 1, set_);
  }
  for (int c = 0; c < B; ++c) tunings[c] = ms[c].fold != frozen ? &tuning(ms[c], it) : nullptr;
}

void MeadsWarmup::after(std::vector<GhmcMember>& ms, int it) {
  if (it < tune_ && (it + 1) % set_.folds == 0) deal(ms, set_.folds, seed_, it);
  if (it + 1 == tune_) final(ms);
}

void MeadsWarmup::final(const std::vector<GhmcMember>& ms) { fixed_ = tune_from(ms, all_, tune_, set_); }

void MeadsWarmup::save(const GhmcMember& m, ChainState& st) const {
  const std::size_t d = fixed_.sigma.size();
  st.step_size = fixed_.eps;
  st.inv_metric.resize(d);
  for (std::size_t i = 0; i < d; ++i) st.inv_metric[i] = fixed_.sigma[i] * fixed_.sigma[i];
  st.ensemble = GhmcChainState{m.fold, m.u, fixed_.alpha, fixed_.delta, m.p};
}

}  // namespace brr::infer
