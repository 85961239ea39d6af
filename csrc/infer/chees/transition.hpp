// One ChEES transition of every chain from their current states: a fresh momentum each, L leapfrog steps
// of size eps in lock-step through the one Hamiltonian (one batch evaluation per step, or the batch's own
// trajectory stepping where it has one, a device), and each chain's Metropolis correction. The run
// (chees.cpp) chooses eps and L and adapts the metric between transitions; a test takes transitions one
// at a time (bindings: sampler_transition).
#pragma once
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "infer/hamiltonian.hpp"
#include "infer/lockstep.hpp"
#include "infer/log_density.hpp"
#include "infer/rng.hpp"

namespace brr::infer {

// One chain's part of a transition: HMC taken in lock-step with the others, so that each leapfrog step's
// gradients of all chains come from one batch evaluation. The steps are the shared Hamiltonian's (drift,
// then kick when the batch's gradients arrive).
struct EnsembleMember {
  std::unique_ptr<LogDensity> density;  // for the search for a starting point
  Rng rng;
  std::vector<double> q, g, q0;  // the current state and where the trajectory started
  double lp = 0;
  PhasePoint prop;  // the trajectory's moving end
  double accept = 0, energy = 0, energy_error = 0, H0 = 0;
  bool divergent = false, ok = true;
  Divergence failure = Divergence::None;  // the density's cause, when a point of the trajectory failed
  long long grad_evals = 0;

  bool valid(LogpStatus st, double logp, const double* grad) const { return usable(st, logp, grad, q.size()); }

  bool eval(const double* x, double* grad, double& logp) {
    ++grad_evals;
    const LogpStatus st = density->logp_grad(x, grad, logp);  // before valid() reads logp
    return valid(st, logp, grad);
  }

  // momentum from the metric, the starting energy
  void begin(Hamiltonian& h) {
    q0 = q;
    prop.q = q;
    prop.g = g;
    prop.logp = lp;
    h.refresh(rng, prop.p.data());
    H0 = h.energy(prop);
    ok = true;
    failure = Divergence::None;
  }

  // the gradient at prop.q arrived: the second half step, unless the point is invalid (the trajectory ends)
  void land(Hamiltonian& h, const double* grad, double logp, LogpStatus st, double eps, Divergence cause) {
    ++grad_evals;
    std::copy(grad, grad + q.size(), prop.g.begin());
    prop.logp = logp;
    ok = valid(st, logp, grad);
    if (!ok) failure = cause;
    if (ok) h.kick_only(prop, eps);  // the energy comes at the end (finish)
  }

  // Metropolis correction of the trajectory's end point
  void finish(Hamiltonian& h) {
    const double H = h.energy(prop);
    energy_error = ok ? H - H0 : HUGE_VAL;
    divergent = !ok || !std::isfinite(H) || energy_error > 1000;
    accept = divergent ? 0.0 : std::min(1.0, std::exp(-energy_error));
    const double u = rng.uniform();
    if (!divergent && u < accept) {
      q = prop.q;
      g = prop.g;
      lp = prop.logp;
      energy = H;
    } else {
      energy = H0;
    }
  }
};

class EnsembleTransition {
 public:
  EnsembleTransition(BatchLogDensity& batch, std::size_t dim);
  // every chain of ms (ms.size() == the batch's lanes) one transition on: a chain whose trajectory met an
  // unusable point stops there (ok false: a divergence) and rides along at its state, its results dropped
  void operator()(std::vector<EnsembleMember>& ms, Hamiltonian& h, int L, double eps);

 private:
  BatchLogDensity& batch_;
  std::size_t d_;
  std::vector<double> X_, G_, LP_, P_;
  std::vector<LogpStatus> ST_;
  std::vector<unsigned char> OK_;
  std::vector<long long> EV_;
};

}  // namespace brr::infer
