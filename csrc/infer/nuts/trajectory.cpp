// NUTS trajectory building, following Stan's base_nuts.hpp step for step.
#include "infer/nuts/trajectory.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/lane_pairs.hpp"

namespace brr::infer {

namespace {
constexpr double kMaxDeltaH = 1000.0;
inline double log_sum_exp(double a, double b) {
  if (a == -HUGE_VAL) return b;
  if (b == -HUGE_VAL) return a;
  const double m = a > b ? a : b;
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

// Whether plus . r > 0 and minus . r > 0 where r = x + y (written to r_out when given), in one pass.
inline bool both_positive(std::size_t n, const double* minus, const double* plus, const double* x, const double* y,
                          double* r_out) {
  Pair a_lo = {0.0, 0.0}, a_hi = a_lo, b_lo = a_lo, b_hi = a_lo;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const Pair r_lo = load_pair(x + i) + load_pair(y + i), r_hi = load_pair(x + i + 2) + load_pair(y + i + 2);
    if (r_out) {
      store_pair(r_out + i, r_lo);
      store_pair(r_out + i + 2, r_hi);
    }
    a_lo += load_pair(plus + i) * r_lo;
    a_hi += load_pair(plus + i + 2) * r_hi;
    b_lo += load_pair(minus + i) * r_lo;
    b_hi += load_pair(minus + i + 2) * r_hi;
  }
  for (; i < n; ++i) {  // the tail goes to lane 0, as in lane_sum
    const double r = x[i] + y[i];
    if (r_out) r_out[i] = r;
    a_lo[0] += plus[i] * r;
    b_lo[0] += minus[i] * r;
  }
  return lane_total(a_lo, a_hi) > 0 && lane_total(b_lo, b_hi) > 0;
}

// Stan's three U-turn checks when two adjacent subtrees (left, right) merge: across the merged whole,
// across the left half extended by the right's first point, and across the right half extended by the
// left's last point; writes the merged momentum sum. When a half is a single leaf (its momentum sum is
// its own momentum, its first and last points the same) its extended check is the whole's, term for
// term, so it is not computed twice: half of all merges join two leaves.
bool merge_checks(std::size_t n, const double* ps_beg, const double* ps_end, const double* ps_left_end,
                  const double* ps_right_beg, const double* p_left_end, const double* p_right_beg,
                  const double* rho_left, const double* rho_right, double* rho_out) {
  bool persist = both_positive(n, ps_beg, ps_end, rho_left, rho_right, rho_out);
  const bool left_leaf = rho_left == p_left_end && ps_left_end == ps_beg;
  const bool right_leaf = rho_right == p_right_beg && ps_right_beg == ps_end;
  if (!right_leaf) persist = both_positive(n, ps_beg, ps_right_beg, rho_left, p_right_beg, nullptr) && persist;
  if (!left_leaf) persist = both_positive(n, ps_left_end, ps_end, rho_right, p_left_end, nullptr) && persist;
  return persist;
}
}  // namespace

Nuts::Nuts(LogDensity& density, const Metric& metric, int max_depth)
    : density_(density), ham_(metric), max_depth_(max_depth), n_(density.dim()), pool_(density.dim()) {
  z_.resize(n_);
  rho_level_.resize(2 * (static_cast<std::size_t>(max_depth) + 1));
  for (auto& r : rho_level_) r.assign(n_, 0.0);
  for (auto& r : rho_whole_) r.assign(n_, 0.0);
}

bool Nuts::evaluate_density(std::vector<double>& q, std::vector<double>& g, double& logp) {
  ++n_grad_;
  double lp = -HUGE_VAL;
  LogpStatus st;
  try {
    st = density_.logp_grad(q.data(), g.data(), lp);
  } catch (const std::exception& e) {
    // a density reports a point outside its support through its status; an exception is a bug in
    // the model or the engine, and counting it as a divergence would bias the draws silently
    throw std::runtime_error(std::string("the log density failed (not a divergence: an error): ") + e.what());
  }
  if (st == LogpStatus::Fatal) throw std::runtime_error("log density reported a fatal error");
  if (st != LogpStatus::Ok || !std::isfinite(lp)) {
    logp = -HUGE_VAL;
    return false;
  }
  logp = lp;
  return true;
}

bool Nuts::evaluate(PhasePoint& z) {
  if (!evaluate_density(z.q, z.g, z.logp)) return false;
  for (double gi : z.g)
    if (!std::isfinite(gi)) return false;
  return true;
}

bool Nuts::leaf(int from, double eps, double H0, Subtree& out, int& n_leapfrog, double& sum_metro_prob) {
  const int s = pool_.acquire();
  State& z = pool_[s];
  const State& z0 = pool_[from];
  ham_.drift(z0.q.data(), z0.p.data(), z0.g.data(), z.q.data(), z.p.data(), eps);
  ++n_leapfrog;
  double h = HUGE_VAL;
  if (evaluate_density(z.q, z.g, z.logp)) {
    // the velocity M^{-1} p is both the kinetic energy's and the U-turn check's p_sharp: computed once.
    // A non-finite gradient makes the kinetic energy non-finite, so h is +inf: a divergence.
    h = energy(z.logp, ham_.kick(z.p.data(), z.g.data(), eps, z.v.data()));
  }
  z.energy = h;
  if (h - H0 > kMaxDeltaH) {
    // an infinite h is a point that was not usable: its cause as the density names it (an ODE solve that
    // stopped short), else a log density or gradient that was not finite
    const Divergence why = density_.last_failure();
    reason_ = std::isfinite(h) ? Divergence::Energy : why != Divergence::None ? why : Divergence::NotFinite;
  }
  out.log_sum_weight = H0 - h;
  sum_metro_prob += H0 - h > 0 ? 1.0 : std::exp(H0 - h);
  // the leaf is its own subtree: first and last state, candidate, and its momentum is the sum
  out.beg = out.end = out.propose = s;
  pool_.retain(s);
  pool_.retain(s);
  out.rho = z.p.data();
  return reason_ == Divergence::None;
}

bool Nuts::build_tree(int depth, int from, double* rho_out, double H0, double sign, Subtree& out, int& n_leapfrog,
                      double& sum_metro_prob, Rng& rng) {
  if (depth == 0) return leaf(from, sign * eps_, H0, out, n_leapfrog, sum_metro_prob);
  const std::size_t d = 2 * static_cast<std::size_t>(depth - 1);
  Subtree init, final;
  if (!build_tree(depth - 1, from, rho_level_[d].data(), H0, sign, init, n_leapfrog, sum_metro_prob, rng))
    return false;
  if (!build_tree(depth - 1, init.end, rho_level_[d + 1].data(), H0, sign, final, n_leapfrog, sum_metro_prob, rng))
    return false;
  const double lsw_subtree = log_sum_exp(init.log_sum_weight, final.log_sum_weight);
  out.log_sum_weight = lsw_subtree;
  if (final.log_sum_weight > lsw_subtree || rng.uniform() < std::exp(final.log_sum_weight - lsw_subtree)) {
    out.propose = final.propose;
    pool_.release(init.propose);
  } else {
    out.propose = init.propose;
    pool_.release(final.propose);
  }
  const State &b = pool_[init.beg], &ie = pool_[init.end], &fb = pool_[final.beg], &e = pool_[final.end];
  const bool persist = merge_checks(n_, b.v.data(), e.v.data(), ie.v.data(), fb.v.data(), ie.p.data(), fb.p.data(),
                                    init.rho, final.rho, rho_out);
  pool_.release(init.end);  // the inner boundary is no longer needed
  pool_.release(final.beg);
  out.beg = init.beg;
  out.end = final.end;
  out.rho = rho_out;
  return persist;
}

TransitionStats Nuts::transition(PhasePoint& z, double eps, Rng& rng) {
  eps_ = eps;
  pool_.reset();
  const int s0 = pool_.acquire();
  State& z0 = pool_[s0];
  z0.q = z.q;
  z0.g = z.g;
  z0.logp = z.logp;
  ham_.refresh(rng, z0.p.data());
  const double H0 = energy(z0.logp, ham_.kinetic(z0.p.data(), z0.v.data()));
  z0.energy = H0;
  // Stan's four boundary points: the trajectory's ends (bck_bck, fwd_fwd) and the inner ends of the last
  // subtree added on each side (bck_fwd, fwd_bck), each a pool reference, plus the sample's.
  int bck_bck = s0, bck_fwd = s0, fwd_bck = s0, fwd_fwd = s0, sample = s0;
  for (int k = 0; k < 4; ++k) pool_.retain(s0);
  const double* rho = z0.p.data();
  int whole = 0;  // which rho_whole_ buffer the next merge writes
  double log_sum_weight = 0.0;
  int n_leapfrog = 0;
  double sum_metro_prob = 0.0;
  int depth = 0;
  reason_ = Divergence::None;
  while (depth < max_depth_) {
    Subtree t;
    double* rho_new = rho_level_[2 * static_cast<std::size_t>(depth)].data();
    const double *rho_bck = nullptr, *rho_fwd = nullptr;
    bool valid = false;
    if (rng.uniform() > 0.5) {
      // extend forward; as in Stan, the old trajectory's inner end becomes the last forward subtree's start
      pool_.release(bck_fwd);
      bck_fwd = fwd_bck;
      valid = build_tree(depth, fwd_fwd, rho_new, H0, 1.0, t, n_leapfrog, sum_metro_prob, rng);
      if (!valid) break;
      fwd_bck = t.beg;
      pool_.release(fwd_fwd);
      fwd_fwd = t.end;
      rho_bck = rho;
      rho_fwd = t.rho;
    } else {
      pool_.release(fwd_bck);
      fwd_bck = bck_fwd;
      valid = build_tree(depth, bck_bck, rho_new, H0, -1.0, t, n_leapfrog, sum_metro_prob, rng);
      if (!valid) break;
      bck_fwd = t.beg;
      pool_.release(bck_bck);
      bck_bck = t.end;
      rho_bck = t.rho;
      rho_fwd = rho;
    }
    ++depth;
    if (t.log_sum_weight > log_sum_weight || rng.uniform() < std::exp(t.log_sum_weight - log_sum_weight)) {
      pool_.release(sample);
      sample = t.propose;
    } else {
      pool_.release(t.propose);
    }
    log_sum_weight = log_sum_exp(log_sum_weight, t.log_sum_weight);
    const State &bb = pool_[bck_bck], &bf = pool_[bck_fwd], &fb = pool_[fwd_bck], &ff = pool_[fwd_fwd];
    double* rho_out = rho_whole_[whole].data();
    const bool persist = merge_checks(n_, bb.v.data(), ff.v.data(), bf.v.data(), fb.v.data(), bf.p.data(),
                                      fb.p.data(), rho_bck, rho_fwd, rho_out);
    rho = rho_out;
    whole = 1 - whole;
    if (!persist) break;
  }
  TransitionStats s;
  s.n_leapfrog = n_leapfrog;
  s.depth = depth;
  s.reason = reason_;
  s.accept_stat = n_leapfrog > 0 ? sum_metro_prob / n_leapfrog : 0.0;
  State& chosen = pool_[sample];
  std::swap(z.q, chosen.q);  // the pool takes z's old vectors: same size, rewritten before use
  std::swap(z.g, chosen.g);
  z.logp = chosen.logp;
  s.energy = chosen.energy;
  s.energy_error = s.energy - H0;
  s.logp = z.logp;
  return s;
}

double Nuts::init_stepsize(const PhasePoint& z0, double eps, Rng& rng) {
  if (eps <= 0 || eps > 1e7 || std::isnan(eps)) return eps;
  auto trial = [&](double e) {
    z_ = z0;
    ham_.refresh(rng, z_.p.data());
    const double H0 = ham_.energy(z_);
    ham_.leapfrog(z_, e, [this](PhasePoint& z) { return evaluate(z); });
    return H0 - ham_.energy(z_);
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

}  // namespace brr::infer
