// Warm-up adaptation as plain state: dual averaging of the step size, Stan's window schedule
// and running estimators of the metric. Everything here is copyable so a chain can be resumed.
#pragma once
#include <cmath>
#include <vector>

namespace brr::infer {

// Stan's dual averaging of the log step size towards an acceptance statistic of delta: the one
// definition NUTS (per chain) and ChEES (across chains, on their harmonic-mean acceptance) share.
struct DualAveraging {
  double delta = 0.8, gamma = 0.05, kappa = 0.75, t0 = 10.0;
  double mu = std::log(10.0), s_bar = 0.0, x_bar = 0.0;
  double counter = 0.0;
  void restart() { counter = s_bar = x_bar = 0.0; }
  // afresh from a step size: Stan's mu = log(10 eps), which the first steps explore around
  void restart(double step_size) {
    mu = std::log(10.0 * step_size);
    restart();
  }
  // Returns the next step size given the last transition's acceptance statistic.
  double learn(double accept_stat);
  double final_step_size() const { return std::exp(x_bar); }
};

// Stan's windowed_adaptation: initial buffer, doubling slow windows, terminal buffer.
struct WindowSchedule {
  int num_warmup = 0, init_buffer = 75, term_buffer = 50, base_window = 25;
  int counter = 0, window_size = 25, next_window = 0;
  bool enabled = true;
  void configure(int warmup, int init, int term, int base);
  bool in_window() const;
  bool end_window() const;
  void compute_next_window();
};

// nutpie's schedule (nuts-rs adapt_strategy.rs): the metric follows a foreground estimator every draw
// while a background estimator fills; they swap every `early_switch` draws in the first 30% of warm-up,
// then at windows from 80 draws growing 1.5x; the last 15% adapts the step size only.
struct NutpieSchedule {
  int num_warmup = 0, early_end = 0, final_start = 0, early_switch = 10;
  double window = 80.0, growth = 1.5;
  bool metric_changed = false;  // the first change of metric re-initialises the step size
  void configure(int warmup);
  bool adapting_metric(int draw) const { return draw < final_start; }
  bool early(int draw) const { return draw < early_end; }
  long switch_after(int draw) const { return early(draw) ? early_switch : static_cast<long>(window); }
};

// Welford running mean and (co)variance of draws, and of gradients for the Fisher metric.
struct MetricEstimator {
  bool dense = false, use_grad = false;
  long n = 0;
  std::vector<double> mean, m2, gmean, gm2;
  void init(std::size_t dim, bool dense_, bool use_grad_);
  void restart();
  void add(const double* q, const double* g);
  // Stan: var * n/(n+5) + 1e-3 * 5/(n+5). Fisher: sqrt(var(q)/var(g)), clamped.
  std::vector<double> estimate() const;
};

// Draws and gradients of the current slow window for the low-rank metric, thinned to about `keep`
// (consecutive NUTS draws are correlated, and the eigen-analysis costs grow with the cube of the count).
struct DrawWindow {
  std::size_t dim = 0;
  long stride = 1, seen = 0, n = 0;
  std::vector<double> q, g;  // n x dim, row per kept draw
  void start(std::size_t d, long window_len, long keep);
  void add(const double* qi, const double* gi);
  void clear() { seen = n = 0, q.clear(), g.clear(); }
};

}  // namespace brr::infer
