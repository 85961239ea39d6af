// Chain initialisation (Stan's uniform(-2, 2) with retries) and the warm-up/sampling step.
#include "infer/nuts/chain.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace brr::infer {

Chain::Chain(LogDensity& density, const ChainConfig& config, const std::vector<double>& init)
    : cfg_(config),
      density_(density),
      metric_(density.dim(), config.dense),
      nuts_(density, metric_, config.max_depth) {
  const std::size_t d = density.dim();
  const bool grad_based = cfg_.adapt != AdaptKind::Stan;
  if (cfg_.low_rank && (cfg_.dense || cfg_.adapt != AdaptKind::Fisher))
    throw std::invalid_argument("the low-rank metric is estimated in Stan's windows from draws and gradients; "
                                "use it with adapt='fisher'");
  if (cfg_.dense && grad_based)
    throw std::invalid_argument("adapt='fisher' and adapt='nutpie' estimate a diagonal metric; use metric='diag' "
                                "with them");
  st_.rng = Rng(cfg_.seed, static_cast<uint64_t>(cfg_.chain));
  st_.dual_averaging.delta = cfg_.target_accept;
  st_.windows.configure(cfg_.tune, cfg_.init_buffer, cfg_.term_buffer, cfg_.base_window);
  st_.estimator.init(d, cfg_.dense, grad_based);
  if (cfg_.adapt == AdaptKind::Nutpie) {
    st_.background.init(d, false, true);
    st_.nutpie.configure(cfg_.tune);
  }
  z_.resize(d);
  initialize(init);
  if (cfg_.adapt == AdaptKind::Nutpie) {  // both estimators start from the initial point, as in nuts-rs
    st_.estimator.add(z_.q.data(), z_.g.data());
    st_.background.add(z_.q.data(), z_.g.data());
  }
  if (!cfg_.warm_inv_metric.empty()) {  // a warm start: the earlier fit's metric
    const std::size_t n = cfg_.warm_inv_metric.size();
    if (n != d && !(cfg_.dense && n == d * d)) throw std::invalid_argument("warm_inv_metric has the wrong size");
    set_metric(cfg_.dense && n == d ? as_dense(cfg_.warm_inv_metric) : cfg_.warm_inv_metric);
  } else if (grad_based) {  // nutpie: first metric from the gradient at the start
    std::vector<double> inv(d);
    for (std::size_t i = 0; i < d; ++i) {
      const double a = std::fabs(z_.g[i]);
      inv[i] = a > 0 ? std::min(1e20, std::max(1e-20, 1.0 / a)) : 1.0;
    }
    set_metric(inv);
  } else {
    st_.inv_metric = cfg_.dense ? metric_.inv_dense() : metric_.inv_diag();
  }
  st_.step_size = cfg_.initial_step_size;
  st_.dual_averaging.restart(st_.step_size);
  if (cfg_.tune > 0) st_.step_size = nuts_.init_stepsize(z_, st_.step_size, st_.rng);
  st_.position = z_.q;
}

void Chain::initialize(const std::vector<double>& init) {
  const std::size_t d = density_.dim();
  if (!init.empty()) {
    if (init.size() != d) throw std::invalid_argument("initial point has the wrong size");
    z_.q = init;
    if (!nuts_.evaluate(z_))
      throw std::invalid_argument("the log density or its gradient is not finite at the given initial values; "
                                  "choose initial values inside the support with finite density");
    return;
  }
  for (int t = 0; t < cfg_.max_init_tries; ++t) {
    for (std::size_t i = 0; i < d; ++i) z_.q[i] = cfg_.init_radius * (2.0 * st_.rng.uniform() - 1.0);
    if (nuts_.evaluate(z_)) return;
  }
  throw std::runtime_error("could not find a starting point with finite log density and gradient after " +
                           std::to_string(cfg_.max_init_tries) +
                           " tries in uniform(-2, 2); check the model's priors, bounds and data, or pass init=");
}

std::vector<double> Chain::as_dense(const std::vector<double>& diag) {
  const std::size_t d = diag.size();
  std::vector<double> m(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i) m[i * d + i] = diag[i];
  return m;
}

std::vector<double> Chain::estimated_metric(const MetricEstimator& e) const {
  std::vector<double> est = e.estimate();
  const double w = cfg_.warm_prior_draws, n = static_cast<double>(e.n);
  if (cfg_.warm_inv_metric.empty() || !(w > 0)) return est;
  // the earlier fit's metric as w draws of evidence beside the n of this estimate (a dense estimate
  // beside a diagonal one: off-diagonal prior 0)
  const std::vector<double>& warm = cfg_.warm_inv_metric;
  const std::size_t d = density_.dim();
  const bool dense = est.size() == d * d, warm_dense = warm.size() == d * d && d > 1;
  for (std::size_t k = 0; k < est.size(); ++k) {
    const bool diag = !dense || k / d == k % d;
    const double prior = warm_dense ? warm[k] : diag ? warm[dense ? k / d : k] : 0.0;
    est[k] = (n * est[k] + w * prior) / (n + w);
  }
  return est;
}

void Chain::set_metric(const std::vector<double>& inv) {
  if (cfg_.dense) metric_.set_inv_dense(inv);
  else metric_.set_inv_diag(inv);
  st_.inv_metric = inv;
}

TransitionStats Chain::step() {
  const bool adapting = warmup();
  if (adapting && cfg_.adapt == AdaptKind::Nutpie) {
    prev_q_ = z_.q;  // same size every draw: no allocation
    TransitionStats s = nuts_.transition(z_, st_.step_size, st_.rng);
    adapt_nutpie(s, z_.q != prev_q_);
    ++st_.iteration;
    return s;
  }
  TransitionStats s = nuts_.transition(z_, st_.step_size, st_.rng);
  if (adapting) adapt_windowed(s);
  ++st_.iteration;
  return s;
}

void Chain::set_low_rank_metric() {
  const std::vector<double> inv = estimated_metric(st_.estimator);
  std::vector<double> stds(inv.size());
  for (std::size_t i = 0; i < inv.size(); ++i) stds[i] = std::sqrt(inv[i]);
  const DrawWindow& w = st_.window;
  LowRankFactor f = estimate_low_rank(w.q, w.g, static_cast<std::size_t>(w.n), w.dim, stds, LowRankSettings{});
  metric_.set_low_rank(inv, f);
  st_.inv_metric = inv;
  st_.low_rank = std::move(f);
  st_.window.clear();
}

void Chain::reinit_step_size() {
  st_.step_size = nuts_.init_stepsize(z_, st_.step_size, st_.rng);
  st_.dual_averaging.restart(st_.step_size);
}

void Chain::adapt_windowed(const TransitionStats& s) {
  st_.step_size = st_.dual_averaging.learn(s.accept_stat);
  WindowSchedule& w = st_.windows;
  if (w.in_window()) {
    st_.estimator.add(z_.q.data(), z_.g.data());
    if (cfg_.low_rank) {
      if (st_.window.seen == 0) st_.window.start(z_.q.size(), w.window_size, kLowRankDraws);
      st_.window.add(z_.q.data(), z_.g.data());
    }
  }
  if (w.end_window()) {
    w.compute_next_window();
    if (cfg_.low_rank) set_low_rank_metric();
    else set_metric(estimated_metric(st_.estimator));
    st_.estimator.restart();
    reinit_step_size();
  }
  ++w.counter;
  if (st_.iteration == cfg_.tune - 1) st_.step_size = st_.dual_averaging.final_step_size();
}

void Chain::adapt_nutpie(const TransitionStats& s, bool moved) {
  NutpieSchedule& sc = st_.nutpie;
  const int draw = st_.iteration;
  if (sc.adapting_metric(draw)) {
    if (moved) {  // a draw that did not move says nothing new about the scales
      st_.estimator.add(z_.q.data(), z_.g.data());
      st_.background.add(z_.q.data(), z_.g.data());
    }
    const long freq = sc.switch_after(draw);
    const bool late = freq + draw > sc.final_start;
    if (st_.background.n >= freq && !late) {
      std::swap(st_.estimator, st_.background);
      st_.background.restart();
      if (!sc.early(draw)) sc.window *= sc.growth;
    }
    const bool changed = st_.estimator.n >= 3;
    if (changed) set_metric(estimated_metric(st_.estimator));
    if (changed && !sc.metric_changed) {
      sc.metric_changed = true;
      reinit_step_size();
    } else {
      st_.step_size = st_.dual_averaging.learn(s.accept_stat);
    }
  } else {
    // the metric is final now: average the step size over this phase only, as Stan's terminal window does
    if (draw == sc.final_start) {
      st_.dual_averaging.restart(st_.step_size);
    }
    st_.step_size = st_.dual_averaging.learn(s.accept_stat);
  }
  if (draw == cfg_.tune - 1) st_.step_size = st_.dual_averaging.final_step_size();
}

ChainState Chain::state() const {
  ChainState s = st_;
  s.position = z_.q;
  return s;
}

void Chain::restore(const ChainState& s) {
  st_ = s;
  if (cfg_.low_rank) metric_.set_low_rank(s.inv_metric, s.low_rank);
  else set_metric(s.inv_metric);
  z_.q = s.position;
  if (!nuts_.evaluate(z_)) throw std::invalid_argument("restored position has a non-finite log density");
}

}  // namespace brr::infer
