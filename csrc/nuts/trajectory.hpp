// One NUTS transition as Stan runs it: multinomial sampling, generalised U-turn with the
// checks across merged subtrees, divergence when the energy error exceeds 1000.
#pragma once
#include <vector>

#include "nuts/log_density.hpp"
#include "nuts/metric.hpp"
#include "nuts/rng.hpp"

namespace brr::nuts {

struct PhasePoint {
  std::vector<double> q, p, g;
  double logp = 0.0;
  void resize(std::size_t n) {
    q.resize(n);
    p.resize(n);
    g.resize(n);
  }
};

struct TransitionStats {
  double accept_stat = 0.0;
  int n_leapfrog = 0;
  int depth = 0;
  bool divergent = false;
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
  struct Level {
    PhasePoint z_final;
    std::vector<double> p_sharp_init_end, rho_init, p_init_end, rho_final, p_final_beg, p_sharp_final_beg, rho_ext;
  };
  bool build_tree(int depth, PhasePoint& z_propose, double* p_sharp_beg, double* p_sharp_end, double* rho,
                  double* p_beg, double* p_end, double H0, double sign, int& n_leapfrog, double& log_sum_weight,
                  double& sum_metro_prob, Rng& rng);
  void leapfrog(PhasePoint& z, double eps);
  double hamiltonian(const PhasePoint& z);
  bool criterion(const double* p_sharp_minus, const double* p_sharp_plus, const double* rho) const;

  LogDensity& density_;
  const Metric& metric_;
  int max_depth_;
  std::size_t n_;
  double eps_ = 1.0;
  bool divergent_ = false;
  long long n_grad_ = 0;
  PhasePoint z_, z_fwd_, z_bck_, z_sample_, z_propose_;
  std::vector<double> v_, p_sharp_fwd_bck_, p_sharp_fwd_fwd_, p_fwd_fwd_, p_fwd_bck_, p_sharp_bck_fwd_,
      p_sharp_bck_bck_, p_bck_fwd_, p_bck_bck_, rho_, rho_fwd_, rho_bck_, rho_ext_;
  std::vector<Level> levels_;
};

}  // namespace brr::nuts
