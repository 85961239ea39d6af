// Step-size and metric adaptation, mirroring stepsize_adaptation.hpp, windowed_adaptation.hpp,
// var_adaptation.hpp and covar_adaptation.hpp in Stan; the Fisher estimate follows nuts-rs.
#include "infer/adaptation.hpp"

#include <algorithm>

namespace brr::infer {

double DualAveraging::learn(double accept_stat) {
  counter += 1.0;
  accept_stat = accept_stat > 1.0 ? 1.0 : accept_stat;
  const double eta = 1.0 / (counter + t0);
  s_bar = (1.0 - eta) * s_bar + eta * (delta - accept_stat);
  const double x = mu - s_bar * std::sqrt(counter) / gamma;
  const double x_eta = std::pow(counter, -kappa);
  x_bar = (1.0 - x_eta) * x_bar + x_eta * x;
  return std::exp(x);
}

void WindowSchedule::configure(int warmup, int init, int term, int base) {
  num_warmup = warmup;
  enabled = warmup >= 20;
  if (init + base + term > warmup) {  // Stan's fallback split: 15% / 75% / 10%
    init = static_cast<int>(0.15 * warmup);
    term = static_cast<int>(0.1 * warmup);
    base = warmup - (init + term);
  }
  init_buffer = init;
  term_buffer = term;
  base_window = base;
  counter = 0;
  window_size = base_window;
  next_window = init_buffer + window_size - 1;
}

bool WindowSchedule::in_window() const {
  return enabled && counter >= init_buffer && counter < num_warmup - term_buffer && counter != num_warmup;
}

bool WindowSchedule::end_window() const { return enabled && counter == next_window && counter != num_warmup; }

void WindowSchedule::compute_next_window() {
  if (next_window == num_warmup - term_buffer - 1) return;
  window_size *= 2;
  next_window = counter + window_size;
  if (next_window != num_warmup - term_buffer - 1) {
    const int boundary = next_window + 2 * window_size;
    if (boundary >= num_warmup - term_buffer) next_window = num_warmup - term_buffer - 1;
  }
}

void NutpieSchedule::configure(int warmup) {
  num_warmup = warmup;
  early_end = static_cast<int>(0.3 * warmup);
  final_start = warmup - static_cast<int>(0.15 * warmup);
  window = 80.0;
  metric_changed = false;
}

void MetricEstimator::init(std::size_t dim, bool dense_, bool use_grad_) {
  dense = dense_;
  use_grad = use_grad_;
  mean.assign(dim, 0.0);
  m2.assign(dense ? dim * dim : dim, 0.0);
  gmean.assign(use_grad ? dim : 0, 0.0);
  gm2.assign(use_grad ? dim : 0, 0.0);
  n = 0;
}

void MetricEstimator::restart() {
  std::fill(mean.begin(), mean.end(), 0.0);
  std::fill(m2.begin(), m2.end(), 0.0);
  std::fill(gmean.begin(), gmean.end(), 0.0);
  std::fill(gm2.begin(), gm2.end(), 0.0);
  n = 0;
}

void MetricEstimator::add(const double* q, const double* g) {
  ++n;
  const std::size_t d = mean.size();
  const double inv_n = 1.0 / static_cast<double>(n);
  if (dense) {
    std::vector<double> delta(d);
    for (std::size_t i = 0; i < d; ++i) {
      delta[i] = q[i] - mean[i];
      mean[i] += delta[i] * inv_n;
    }
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) m2[i * d + j] += (q[i] - mean[i]) * delta[j];
  } else {
    for (std::size_t i = 0; i < d; ++i) {
      const double delta = q[i] - mean[i];
      mean[i] += delta * inv_n;
      m2[i] += delta * (q[i] - mean[i]);
    }
  }
  if (use_grad)
    for (std::size_t i = 0; i < d; ++i) {
      const double delta = g[i] - gmean[i];
      gmean[i] += delta * inv_n;
      gm2[i] += delta * (g[i] - gmean[i]);
    }
}

std::vector<double> MetricEstimator::estimate() const {
  const std::size_t d = mean.size();
  const double nn = static_cast<double>(n);
  std::vector<double> out(m2.size());
  if (use_grad) {
    for (std::size_t i = 0; i < d; ++i) {
      const double vq = m2[i] / (nn - 1.0), vg = gm2[i] / (nn - 1.0);
      double s = (vq > 0 && vg > 0) ? std::sqrt(vq / vg) : 1.0;
      out[i] = std::clamp(s, 1e-20, 1e20);
    }
    return out;
  }
  const double w = nn / (nn + 5.0), reg = 1e-3 * 5.0 / (nn + 5.0);
  for (std::size_t k = 0; k < m2.size(); ++k) out[k] = w * m2[k] / (nn - 1.0);
  if (dense) {
    for (std::size_t i = 0; i < d; ++i) out[i * d + i] += reg;
  } else {
    for (double& v : out) v += reg;
  }
  return out;
}

void DrawWindow::start(std::size_t d, long window_len, long keep) {
  clear();
  dim = d;
  stride = std::max(1L, (window_len + keep - 1) / keep);
  q.reserve(static_cast<std::size_t>(keep) * d);
  g.reserve(static_cast<std::size_t>(keep) * d);
}

void DrawWindow::add(const double* qi, const double* gi) {
  if (seen++ % stride) return;
  q.insert(q.end(), qi, qi + dim);
  g.insert(g.end(), gi, gi + dim);
  ++n;
}

}  // namespace brr::infer
