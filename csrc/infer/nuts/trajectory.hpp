// One NUTS transition as Stan runs it: multinomial sampling, generalised U-turn with the
// checks across merged subtrees, divergence when the energy error exceeds 1000.
#pragma once
#include <cmath>
#include <vector>

#include "infer/hamiltonian.hpp"
#include "infer/log_density.hpp"
#include "infer/metric.hpp"
#include "infer/rng.hpp"
#include "infer/state_pool.hpp"

namespace brr::infer {

struct TransitionStats {
  double accept_stat = 0.0;
  int n_leapfrog = 0;
  int depth = 0;
  Divergence reason = Divergence::None;  // why the transition diverged; None when it did not
  bool divergent() const { return reason != Divergence::None; }
  double energy = 0.0;
  double energy_error = 0.0;
  double logp = 0.0;
};

class Nuts {
 public:
  Nuts(LogDensity& density, const Metric& metric, int max_depth);
  // Evaluates logp and gradient at z.q; false if either is not finite.
  bool evaluate(PhasePoint& z);
  TransitionStats transition(PhasePoint& z, double eps, Rng& rng);
  // Stan's heuristic: double or halve eps until one leapfrog step's acceptance crosses 0.8.
  double init_stepsize(const PhasePoint& z, double eps, Rng& rng);
  long long gradient_evals() const { return n_grad_; }

 private:
  // A finished subtree: its first and last states (in the direction of integration), its candidate
  // draw (each a pool reference it holds), its momentum sum and its log sum of weights.
  struct Subtree {
    int beg = -1, end = -1, propose = -1;
    const double* rho = nullptr;  // a leaf's own momentum, or the buffer its merge wrote
    double log_sum_weight = -HUGE_VAL;
  };
  // Builds 2^depth leapfrogs on from state `from`; a merged subtree writes its momentum sum into rho_out.
  bool build_tree(int depth, int from, double* rho_out, double H0, double sign, Subtree& out, int& n_leapfrog,
                  double& sum_metro_prob, Rng& rng);
  bool leaf(int from, double eps, double H0, Subtree& out, int& n_leapfrog, double& sum_metro_prob);
  bool evaluate_density(std::vector<double>& q, std::vector<double>& g, double& logp);

  LogDensity& density_;
  Hamiltonian ham_;
  int max_depth_;
  std::size_t n_;
  double eps_ = 1.0;
  Divergence reason_ = Divergence::None;  // the transition's divergence, by cause; None while it has none
  long long n_grad_ = 0;
  StatePool pool_;
  PhasePoint z_;                                // the step-size search's scratch point (its momentum too)
  std::vector<std::vector<double>> rho_level_;  // per depth, the two halves' momentum sums
  std::vector<double> rho_whole_[2];            // the trajectory's momentum sum, before and after a merge
};

}  // namespace brr::infer
