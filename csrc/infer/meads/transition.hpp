// One MEADS transition of every chain from their current states: generalized HMC (partial momentum
// refreshment, one leapfrog step through the one Hamiltonian, Neal's non-reversible slice accept test),
// each chain with its fold's tuning, the gradients of all chains from one batch evaluation. The run
// (meads.cpp) tunes the folds between transitions; a test takes transitions one at a time (bindings:
// sampler_transition).
#pragma once
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "infer/hamiltonian.hpp"
#include "infer/lockstep.hpp"
#include "infer/log_density.hpp"
#include "infer/metric.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

// The generalized HMC kernel's tuning: one fold's during warm-up, everyone's after it.
struct Tuning {
  double eps = 1.0, alpha = 1.0, delta = 0.5;
  std::vector<double> sigma;  // preconditioner: per-dimension scale
  Metric metric;              // its diagonal metric, M^{-1} = sigma^2
  void set_sigma(std::vector<double> s) {
    sigma = std::move(s);
    std::vector<double> minv(sigma.size());
    for (std::size_t i = 0; i < sigma.size(); ++i) minv[i] = sigma[i] * sigma[i];
    metric = Metric(sigma.size(), false);
    metric.set_inv_diag(minv);
  }
};

// A chain's state keeps its momentum p whitened (per unit of sigma, as the paper's preconditioned
// coordinates have it), so that it carries over when its fold's tuning changes; each step converts it to
// the metric's units, p / sigma, for the shared Hamiltonian's leapfrog step and back.
struct GhmcMember {
  std::unique_ptr<LogDensity> density;  // for the search for a starting point
  Rng rng;
  int fold = 0;
  std::vector<double> q, g, p;
  PhasePoint prop;  // the step's end
  double lp = 0, u = 0, H0 = 0, accept = 0, energy = 0, energy_error = 0;
  bool divergent = false, moves = false;
  Divergence failure = Divergence::None;  // the density's cause, when the step's point failed
  long long grad_evals = 0;

  // momentum partly refreshed, slice moved on, half a momentum step and a position step: prop.q is where
  // the gradient is wanted
  void drift(const Tuning& t, Hamiltonian& h) {
    const std::size_t d = q.size();
    rng.normals(prop.p.data(), d);  // the fresh noise, for a moment
    const double keep = std::sqrt(1.0 - t.alpha), fresh = std::sqrt(t.alpha);
    for (std::size_t i = 0; i < d; ++i) {
      p[i] = keep * p[i] + fresh * prop.p[i];
      prop.p[i] = p[i] / t.sigma[i];
    }
    u = std::fmod(u + 1.0 + t.delta, 2.0) - 1.0;
    prop.q = q;
    prop.g = g;
    prop.logp = lp;
    H0 = h.energy(prop);
    h.drift(prop, t.eps);
  }

  // the gradient at prop.q arrived: the second half step and the non-reversible accept test (Neal 2020):
  // accept when |u| < exp(-dH), then u scales by exp(dH) so that it stays uniform; a rejection reverses
  // the momentum
  void land(const double* grad, double logp, LogpStatus st, const Tuning& t, Hamiltonian& h, double divergence,
            Divergence cause) {
    const std::size_t d = q.size();
    ++grad_evals;
    const bool ok = usable(st, logp, grad, d);
    failure = ok ? Divergence::None : cause;
    std::copy(grad, grad + d, prop.g.begin());
    prop.logp = logp;
    const double H = ok ? infer::energy(logp, h.kick(prop, t.eps)) : HUGE_VAL;
    energy_error = ok ? H - H0 : HUGE_VAL;
    divergent = !ok || !std::isfinite(H) || energy_error > divergence;
    accept = divergent ? 0.0 : std::min(1.0, std::exp(-energy_error));
    if (!divergent && std::fabs(u) < std::exp(-energy_error)) {
      q = prop.q;
      g = prop.g;
      for (std::size_t i = 0; i < d; ++i) p[i] = prop.p[i] * t.sigma[i];
      lp = logp;
      u *= std::exp(energy_error);
      energy = H;
    } else {
      for (double& v : p) v = -v;
      energy = H0;
    }
  }
};

class GhmcTransition {
 public:
  GhmcTransition(BatchLogDensity& batch, std::size_t dim);
  // every chain of ms one transition on with tuning[c]; a null tuning: chain c stands still this time
  // (moves false, its state evaluated along with the others and left as it was)
  void operator()(std::vector<GhmcMember>& ms, const std::vector<const Tuning*>& tuning, double divergence);

 private:
  BatchLogDensity& batch_;
  std::size_t d_;
  std::vector<double> X_, G_, LP_;
  std::vector<LogpStatus> ST_;
};

}  // namespace brr::infer
