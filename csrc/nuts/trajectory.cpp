// NUTS trajectory building, following Stan's base_nuts.hpp step for step.
#include "nuts/trajectory.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "common/reduce.hpp"

namespace brr::nuts {

namespace {
constexpr double kMaxDeltaH = 1000.0;
inline double log_sum_exp(double a, double b) {
  if (a == -HUGE_VAL) return b;
  if (b == -HUGE_VAL) return a;
  const double m = a > b ? a : b;
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}
inline void add_to(std::vector<double>& out, const std::vector<double>& a, const double* b) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] + b[i];
}
}  // namespace

Nuts::Nuts(LogDensity& density, const Metric& metric, int max_depth)
    : density_(density), metric_(metric), max_depth_(max_depth), n_(density.dim()) {
  for (PhasePoint* z : {&z_, &z_fwd_, &z_bck_, &z_sample_, &z_propose_}) z->resize(n_);
  for (auto* v : {&v_, &p_sharp_fwd_bck_, &p_sharp_fwd_fwd_, &p_fwd_fwd_, &p_fwd_bck_, &p_sharp_bck_fwd_,
                  &p_sharp_bck_bck_, &p_bck_fwd_, &p_bck_bck_, &rho_, &rho_fwd_, &rho_bck_, &rho_ext_})
    v->assign(n_, 0.0);
  levels_.resize(static_cast<std::size_t>(max_depth) + 1);
  for (Level& l : levels_) {
    l.z_final.resize(n_);
    for (auto* v : {&l.p_sharp_init_end, &l.rho_init, &l.p_init_end, &l.rho_final, &l.p_final_beg,
                    &l.p_sharp_final_beg, &l.rho_ext})
      v->assign(n_, 0.0);
  }
}

bool Nuts::evaluate(PhasePoint& z) {
  ++n_grad_;
  double lp = -HUGE_VAL;
  LogpStatus st;
  try {
    st = density_.logp_grad(z.q.data(), z.g.data(), lp);
  } catch (const std::exception&) {
    st = LogpStatus::Recoverable;
  }
  if (st == LogpStatus::Fatal) throw std::runtime_error("log density reported a fatal error");
  if (st != LogpStatus::Ok || !std::isfinite(lp)) {
    z.logp = -HUGE_VAL;
    return false;
  }
  z.logp = lp;
  for (double gi : z.g)
    if (!std::isfinite(gi)) return false;
  return true;
}

void Nuts::leapfrog(PhasePoint& z, double eps) {
  for (std::size_t i = 0; i < n_; ++i) z.p[i] += 0.5 * eps * z.g[i];
  metric_.velocity(z.p.data(), v_.data());
  for (std::size_t i = 0; i < n_; ++i) z.q[i] += eps * v_[i];
  if (!evaluate(z)) {
    z.logp = -HUGE_VAL;  // H = +inf: the step counts as divergent
    return;
  }
  for (std::size_t i = 0; i < n_; ++i) z.p[i] += 0.5 * eps * z.g[i];
}

double Nuts::hamiltonian(const PhasePoint& z) {
  metric_.velocity(z.p.data(), v_.data());
  const double h = -z.logp + metric_.kinetic(z.p.data(), v_.data());
  return std::isnan(h) ? HUGE_VAL : h;
}

bool Nuts::criterion(const double* ps_minus, const double* ps_plus, const double* rho) const {
  const double a = lane_sum(n_, [ps_plus, rho](std::size_t i) { return ps_plus[i] * rho[i]; });
  const double b = lane_sum(n_, [ps_minus, rho](std::size_t i) { return ps_minus[i] * rho[i]; });
  return a > 0 && b > 0;
}

bool Nuts::build_tree(int depth, PhasePoint& z_propose, double* p_sharp_beg, double* p_sharp_end, double* rho,
                      double* p_beg, double* p_end, double H0, double sign, int& n_leapfrog, double& log_sum_weight,
                      double& sum_metro_prob, Rng& rng) {
  if (depth == 0) {
    leapfrog(z_, sign * eps_);
    ++n_leapfrog;
    // the velocity M^{-1} p is both the kinetic energy's and the U-turn check's p_sharp: computed once
    metric_.velocity(z_.p.data(), p_sharp_beg);
    double h = -z_.logp + metric_.kinetic(z_.p.data(), p_sharp_beg);
    if (std::isnan(h)) h = HUGE_VAL;
    if (h - H0 > kMaxDeltaH) divergent_ = true;
    log_sum_weight = log_sum_exp(log_sum_weight, H0 - h);
    sum_metro_prob += H0 - h > 0 ? 1.0 : std::exp(H0 - h);
    z_propose = z_;
    for (std::size_t i = 0; i < n_; ++i) {
      p_sharp_end[i] = p_sharp_beg[i];
      rho[i] += z_.p[i];
      p_beg[i] = z_.p[i];
      p_end[i] = z_.p[i];
    }
    return !divergent_;
  }
  Level& L = levels_[depth];
  double lsw_init = -HUGE_VAL;
  std::fill(L.rho_init.begin(), L.rho_init.end(), 0.0);
  if (!build_tree(depth - 1, z_propose, p_sharp_beg, L.p_sharp_init_end.data(), L.rho_init.data(), p_beg,
                  L.p_init_end.data(), H0, sign, n_leapfrog, lsw_init, sum_metro_prob, rng))
    return false;
  double lsw_final = -HUGE_VAL;
  std::fill(L.rho_final.begin(), L.rho_final.end(), 0.0);
  if (!build_tree(depth - 1, L.z_final, L.p_sharp_final_beg.data(), p_sharp_end, L.rho_final.data(),
                  L.p_final_beg.data(), p_end, H0, sign, n_leapfrog, lsw_final, sum_metro_prob, rng))
    return false;
  const double lsw_subtree = log_sum_exp(lsw_init, lsw_final);
  log_sum_weight = log_sum_exp(log_sum_weight, lsw_subtree);
  if (lsw_final > lsw_subtree || rng.uniform() < std::exp(lsw_final - lsw_subtree)) z_propose = L.z_final;
  // Checks between the two halves first, while rho_init still holds the left half alone.
  for (std::size_t i = 0; i < n_; ++i) L.rho_ext[i] = L.rho_init[i] + L.p_final_beg[i];
  bool persist = criterion(p_sharp_beg, L.p_sharp_final_beg.data(), L.rho_ext.data());
  for (std::size_t i = 0; i < n_; ++i) L.rho_ext[i] = L.rho_final[i] + L.p_init_end[i];
  persist = criterion(L.p_sharp_init_end.data(), p_sharp_end, L.rho_ext.data()) && persist;
  for (std::size_t i = 0; i < n_; ++i) {
    L.rho_ext[i] = L.rho_init[i] + L.rho_final[i];  // rho of the merged subtree
    rho[i] += L.rho_ext[i];
  }
  persist = criterion(p_sharp_beg, p_sharp_end, L.rho_ext.data()) && persist;
  return persist;
}

TransitionStats Nuts::transition(PhasePoint& z, double eps, Rng& rng) {
  eps_ = eps;
  z_ = z;
  metric_.sample_momentum(rng, z_.p.data());
  z_fwd_ = z_;
  z_bck_ = z_;
  z_sample_ = z_;
  z_propose_ = z_;
  metric_.velocity(z_.p.data(), p_sharp_fwd_fwd_.data());
  p_fwd_fwd_ = z_.p;
  p_fwd_bck_ = z_.p;
  p_sharp_fwd_bck_ = p_sharp_fwd_fwd_;
  p_bck_fwd_ = z_.p;
  p_sharp_bck_fwd_ = p_sharp_fwd_fwd_;
  p_bck_bck_ = z_.p;
  p_sharp_bck_bck_ = p_sharp_fwd_fwd_;
  rho_ = z_.p;
  double log_sum_weight = 0.0;
  const double H0 = hamiltonian(z_);
  int n_leapfrog = 0;
  double sum_metro_prob = 0.0;
  int depth = 0;
  divergent_ = false;
  while (depth < max_depth_) {
    std::fill(rho_fwd_.begin(), rho_fwd_.end(), 0.0);
    std::fill(rho_bck_.begin(), rho_bck_.end(), 0.0);
    bool valid = false;
    double lsw_subtree = -HUGE_VAL;
    if (rng.uniform() > 0.5) {
      z_ = z_fwd_;
      rho_bck_ = rho_;
      p_bck_fwd_ = p_fwd_bck_;
      p_sharp_bck_fwd_ = p_sharp_fwd_bck_;
      valid = build_tree(depth, z_propose_, p_sharp_fwd_bck_.data(), p_sharp_fwd_fwd_.data(), rho_fwd_.data(),
                         p_fwd_bck_.data(), p_fwd_fwd_.data(), H0, 1.0, n_leapfrog, lsw_subtree, sum_metro_prob, rng);
      z_fwd_ = z_;
    } else {
      z_ = z_bck_;
      rho_fwd_ = rho_;
      p_fwd_bck_ = p_bck_fwd_;
      p_sharp_fwd_bck_ = p_sharp_bck_fwd_;
      valid = build_tree(depth, z_propose_, p_sharp_bck_fwd_.data(), p_sharp_bck_bck_.data(), rho_bck_.data(),
                         p_bck_fwd_.data(), p_bck_bck_.data(), H0, -1.0, n_leapfrog, lsw_subtree, sum_metro_prob,
                         rng);
      z_bck_ = z_;
    }
    if (!valid) break;
    ++depth;
    if (lsw_subtree > log_sum_weight) {
      z_sample_ = z_propose_;
    } else if (rng.uniform() < std::exp(lsw_subtree - log_sum_weight)) {
      z_sample_ = z_propose_;
    }
    log_sum_weight = log_sum_exp(log_sum_weight, lsw_subtree);
    add_to(rho_, rho_bck_, rho_fwd_.data());
    bool persist = criterion(p_sharp_bck_bck_.data(), p_sharp_fwd_fwd_.data(), rho_.data());
    add_to(rho_ext_, rho_bck_, p_fwd_bck_.data());
    persist = persist && criterion(p_sharp_bck_bck_.data(), p_sharp_fwd_bck_.data(), rho_ext_.data());
    add_to(rho_ext_, rho_fwd_, p_bck_fwd_.data());
    persist = persist && criterion(p_sharp_bck_fwd_.data(), p_sharp_fwd_fwd_.data(), rho_ext_.data());
    if (!persist) break;
  }
  TransitionStats s;
  s.n_leapfrog = n_leapfrog;
  s.depth = depth;
  s.divergent = divergent_;
  s.accept_stat = n_leapfrog > 0 ? sum_metro_prob / n_leapfrog : 0.0;
  z = z_sample_;
  s.energy = hamiltonian(z);
  s.energy_error = s.energy - H0;
  s.logp = z.logp;
  return s;
}

double Nuts::init_stepsize(const PhasePoint& z0, double eps, Rng& rng) {
  if (eps <= 0 || eps > 1e7 || std::isnan(eps)) return eps;
  auto trial = [&](double e) {
    z_ = z0;
    metric_.sample_momentum(rng, z_.p.data());
    const double H0 = hamiltonian(z_);
    leapfrog(z_, e);
    return H0 - hamiltonian(z_);
  };
  const double log08 = std::log(0.8);
  const int direction = trial(eps) > log08 ? 1 : -1;
  while (true) {
    const double dH = trial(eps);
    if (direction == 1 && !(dH > log08)) break;
    if (direction == -1 && !(dH < log08)) break;
    eps = direction == 1 ? 2.0 * eps : 0.5 * eps;
    if (eps > 1e7)
      throw std::runtime_error("step size search: the posterior appears improper (step size grew past 1e7); "
                               "check that every parameter has a proper prior or informative likelihood");
    if (eps == 0)
      throw std::runtime_error("step size search: no acceptable step size; the log density or its gradient "
                               "is not finite near the initial point");
  }
  return eps;
}

}  // namespace brr::nuts
