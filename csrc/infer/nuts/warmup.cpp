// Stan's windowed warm-up (and the Fisher and low-rank metrics in its windows) and nutpie's schedule.
#include "infer/nuts/warmup.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace brr::infer {

Warmup::Warmup(const ChainConfig& config) : cfg_(config) {
  if (cfg_.low_rank && (cfg_.dense || cfg_.adapt != AdaptKind::Fisher))
    throw std::invalid_argument("the low-rank metric is estimated in Stan's windows from draws and gradients; "
                                "use it with adapt='fisher'");
  if (cfg_.dense && cfg_.adapt != AdaptKind::Stan)
    throw std::invalid_argument("adapt='fisher' and adapt='nutpie' estimate a diagonal metric; use metric='diag' "
                                "with them");
}

void Warmup::init(ChainState& st, WarmupHost& host, const PhasePoint& z) const {
  const std::size_t d = z.q.size();
  const bool grad_based = cfg_.adapt != AdaptKind::Stan;
  st.dual_averaging.delta = cfg_.target_accept;
  st.windows.configure(cfg_.tune, cfg_.init_buffer, cfg_.term_buffer, cfg_.base_window);
  st.estimator.init(d, cfg_.dense, grad_based);
  if (cfg_.adapt == AdaptKind::Nutpie) {  // both estimators start from the initial point, as in nuts-rs
    st.background.init(d, false, true);
    st.nutpie.configure(cfg_.tune);
    st.estimator.add(z.q.data(), z.g.data());
    st.background.add(z.q.data(), z.g.data());
  }
  if (!cfg_.warm_inv_metric.empty()) {  // a warm start: the earlier fit's metric
    const std::size_t n = cfg_.warm_inv_metric.size();
    if (n != d && !(cfg_.dense && n == d * d)) throw std::invalid_argument("warm_inv_metric has the wrong size");
    st.inv_metric = cfg_.dense && n == d ? as_dense(cfg_.warm_inv_metric) : cfg_.warm_inv_metric;
  } else if (grad_based) {  // nutpie: first metric from the gradient at the start
    st.inv_metric.assign(d, 1.0);
    for (std::size_t i = 0; i < d; ++i) {
      const double a = std::fabs(z.g[i]);
      if (a > 0) st.inv_metric[i] = std::min(1e20, std::max(1e-20, 1.0 / a));
    }
  } else {  // Stan: the unit metric, which the host's metric starts as
    st.inv_metric = cfg_.dense ? as_dense(std::vector<double>(d, 1.0)) : std::vector<double>(d, 1.0);
  }
  if (!cfg_.warm_inv_metric.empty() || grad_based) host.set_metric(st.inv_metric);
  st.step_size = cfg_.initial_step_size;
  st.dual_averaging.restart(st.step_size);
  if (cfg_.tune > 0) st.step_size = host.search_step_size(st.step_size);
}

void Warmup::update(ChainState& st, WarmupHost& host, const PhasePoint& z, double accept_stat, bool moved) const {
  if (cfg_.adapt == AdaptKind::Nutpie) nutpie(st, host, z, accept_stat, moved);
  else windowed(st, host, z, accept_stat);
}

std::vector<double> Warmup::as_dense(const std::vector<double>& diag) {
  const std::size_t d = diag.size();
  std::vector<double> m(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i) m[i * d + i] = diag[i];
  return m;
}

std::vector<double> Warmup::estimated_metric(const MetricEstimator& e) const {
  std::vector<double> est = e.estimate();
  const double w = cfg_.warm_prior_draws, n = static_cast<double>(e.n);
  if (cfg_.warm_inv_metric.empty() || !(w > 0)) return est;
  // the earlier fit's metric as w draws of evidence beside the n of this estimate (a dense estimate
  // beside a diagonal one: off-diagonal prior 0)
  const std::vector<double>& warm = cfg_.warm_inv_metric;
  const std::size_t d = e.mean.size();
  const bool dense = est.size() == d * d, warm_dense = warm.size() == d * d && d > 1;
  for (std::size_t k = 0; k < est.size(); ++k) {
    const bool diag = !dense || k / d == k % d;
    const double prior = warm_dense ? warm[k] : diag ? warm[dense ? k / d : k] : 0.0;
    est[k] = (n * est[k] + w * prior) / (n + w);
  }
  return est;
}

void Warmup::set_low_rank_metric(ChainState& st, WarmupHost& host) const {
  std::vector<double> inv = estimated_metric(st.estimator);
  std::vector<double> stds(inv.size());
  for (std::size_t i = 0; i < inv.size(); ++i) stds[i] = std::sqrt(inv[i]);
  const DrawWindow& w = st.window;
  st.low_rank = estimate_low_rank(w.q, w.g, static_cast<std::size_t>(w.n), w.dim, stds, LowRankSettings{});
  st.inv_metric = std::move(inv);
  host.set_low_rank_metric(st.inv_metric, st.low_rank);
  st.window.clear();
}

void Warmup::restart_step_size(ChainState& st, WarmupHost& host) const {
  st.step_size = host.search_step_size(st.step_size);
  st.dual_averaging.restart(st.step_size);
}

void Warmup::windowed(ChainState& st, WarmupHost& host, const PhasePoint& z, double accept_stat) const {
  st.step_size = st.dual_averaging.learn(accept_stat);
  WindowSchedule& w = st.windows;
  if (w.in_window()) {
    st.estimator.add(z.q.data(), z.g.data());
    if (cfg_.low_rank) {
      if (st.window.seen == 0) st.window.start(z.q.size(), w.window_size, kLowRankDraws);
      st.window.add(z.q.data(), z.g.data());
    }
  }
  if (w.end_window()) {
    w.compute_next_window();
    if (cfg_.low_rank) {
      set_low_rank_metric(st, host);
    } else {
      st.inv_metric = estimated_metric(st.estimator);
      host.set_metric(st.inv_metric);
    }
    st.estimator.restart();
    restart_step_size(st, host);
  }
  ++w.counter;
}

void Warmup::nutpie(ChainState& st, WarmupHost& host, const PhasePoint& z, double accept_stat, bool moved) const {
  NutpieSchedule& sc = st.nutpie;
  const int draw = st.iteration;
  if (sc.adapting_metric(draw)) {
    if (moved) {  // a draw that did not move says nothing new about the scales
      st.estimator.add(z.q.data(), z.g.data());
      st.background.add(z.q.data(), z.g.data());
    }
    const long freq = sc.switch_after(draw);
    const bool late = freq + draw > sc.final_start;
    if (st.background.n >= freq && !late) {
      std::swap(st.estimator, st.background);
      st.background.restart();
      if (!sc.early(draw)) sc.window *= sc.growth;
    }
    const bool changed = st.estimator.n >= 3;
    if (changed) {
      st.inv_metric = estimated_metric(st.estimator);
      host.set_metric(st.inv_metric);
    }
    if (changed && !sc.metric_changed) {
      sc.metric_changed = true;
      restart_step_size(st, host);
    } else {
      st.step_size = st.dual_averaging.learn(accept_stat);
    }
  } else {
    // the metric is final now: average the step size over this phase only, as Stan's terminal window does
    if (draw == sc.final_start) st.dual_averaging.restart(st.step_size);
    st.step_size = st.dual_averaging.learn(accept_stat);
  }
}

}  // namespace brr::infer
