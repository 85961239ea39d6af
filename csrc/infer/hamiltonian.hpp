// One Hamiltonian for every sampler: H(q, p) = -log p(q) + p.M^{-1}p / 2 with a Metric's M, integrated by
// the leapfrog. NUTS, ChEES and MEADS all step through this class (a lock-step ensemble splits each step
// around its batch evaluation: drift, then kick when the gradients arrive), Metric holds the metric
// algebra, and the per-coordinate arithmetic is common/leapfrog_math.hpp's, which the device's trajectory
// kernels share.
#pragma once
#include <cmath>
#include <vector>

#include "common/leapfrog_math.hpp"
#include "infer/metric.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

// A point in phase space: position, momentum, the gradient and log density at the position.
struct PhasePoint {
  std::vector<double> q, p, g;
  double logp = 0.0;
  void resize(std::size_t n) {
    q.resize(n);
    p.resize(n);
    g.resize(n);
  }
};

// H = -log p + kinetic energy; NaN counts as +inf (a divergence, never a candidate).
inline double energy(double logp, double kinetic) {
  const double h = -logp + kinetic;
  return std::isnan(h) ? HUGE_VAL : h;
}

class Hamiltonian {
 public:
  explicit Hamiltonian(const Metric& metric) : metric_(&metric), v_(metric.dim(), 0.0) {}
  const Metric& metric() const { return *metric_; }

  // a fresh momentum p ~ N(0, M)
  void refresh(Rng& rng, double* p) const { metric_->sample_momentum(rng, p); }
  // p.M^{-1}p / 2, leaving the velocity M^{-1} p in v (scratch of the dimension, by default the class's own)
  double kinetic(const double* p, double* v) const {
    metric_->velocity(p, v);
    return metric_->kinetic(p, v);
  }
  double kinetic(const double* p) { return kinetic(p, v_.data()); }
  double energy(const PhasePoint& z) { return infer::energy(z.logp, kinetic(z.p.data())); }

  // The step's first half from (q0, p0, g0): p = p0 + eps/2 g0, then q = q0 + eps M^{-1} p, q being where
  // the gradient is wanted next (in place when the pointers coincide).
  void drift(const double* q0, const double* p0, const double* g0, double* q, double* p, double eps) {
    metric_->drift(q0, p0, g0, q, p, 0.5 * eps, eps, v_.data());
  }
  void drift(PhasePoint& z, double eps) { drift(z.q.data(), z.p.data(), z.g.data(), z.q.data(), z.p.data(), eps); }
  // Its second half, once g holds the gradient at the new position: p += eps/2 g. Leaves the velocity
  // M^{-1} p in v (scratch of the dimension) and returns the kinetic energy.
  double kick(double* p, const double* g, double eps, double* v) { return metric_->kick(p, g, 0.5 * eps, v); }
  double kick(PhasePoint& z, double eps) { return kick(z.p.data(), z.g.data(), eps, v_.data()); }
  // the same half step where the kinetic energy is not wanted yet (a trajectory's inner steps)
  void kick_only(PhasePoint& z, double eps) const {
    const double half_eps = 0.5 * eps;
    for (std::size_t i = 0; i < z.p.size(); ++i) z.p[i] = half_kicked(z.p[i], half_eps, z.g[i]);
  }

  // A whole step. evaluate(z) fills z.logp and z.g at z.q and says whether they are usable; at an unusable
  // point the step ends there with logp = -inf (H = +inf: a divergence) and returns false.
  template <class Evaluate>
  bool leapfrog(PhasePoint& z, double eps, Evaluate&& evaluate) {
    drift(z, eps);
    if (!evaluate(z)) {
      z.logp = -HUGE_VAL;
      return false;
    }
    kick(z, eps);
    return true;
  }

 private:
  const Metric* metric_;
  std::vector<double> v_;  // velocity scratch
};

}  // namespace brr::infer
