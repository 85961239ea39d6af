// ChEES's warm-up: see warmup.hpp, and chees.hpp for the method.
#include "infer/chees/warmup.hpp"

#include <algorithm>
#include <cmath>

#include "infer/ensemble_state.hpp"

namespace brr::infer {

namespace {

double halton2(long i) {  // van der Corput in base 2: the i-th point (i >= 1) in (0, 1)
  double f = 1.0, r = 0.0;
  for (; i > 0; i >>= 1) {
    f *= 0.5;
    r += f * static_cast<double>(i & 1);
  }
  return r;
}

struct Adam {  // one parameter
  double m = 0, v = 0;
  long t = 0;
  double step(double g, double rate) {
    ++t;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    const double mh = m / (1 - std::pow(0.9, static_cast<double>(t)));
    const double vh = v / (1 - std::pow(0.999, static_cast<double>(t)));
    return rate * mh / (std::sqrt(vh) + 1e-8);
  }
};

// The gradient in log trajectory length of the ChEES criterion (the change in the chains' centred squared
// distance, squared) over the chains' last trajectories of time t: acceptance-weighted, in whitened
// coordinates, divided by the squared distance squared so that Adam sees one magnitude for any dimension
// and posterior scale (each step moves log T by about the learning rate while the sign holds).
// mean_prop, mean_init: scratch of the dimension.
double chees_gradient(const std::vector<EnsembleMember>& ms, const std::vector<double>& minv, double t,
                      std::vector<double>& mean_prop, std::vector<double>& mean_init) {
  const std::size_t d = minv.size();
  const double B = static_cast<double>(ms.size());
  double wsum = 0.0;
  std::fill(mean_prop.begin(), mean_prop.end(), 0.0);
  std::fill(mean_init.begin(), mean_init.end(), 0.0);
  for (const EnsembleMember& m : ms) {
    const double w = m.divergent ? 0.0 : m.accept;
    wsum += w;
    for (std::size_t i = 0; i < d; ++i) {
      mean_prop[i] += w * m.prop.q[i];
      mean_init[i] += m.q0[i] / B;
    }
  }
  if (wsum <= 0) return 0.0;
  for (auto& v : mean_prop) v /= wsum;
  double grad = 0.0, scale = 0.0;
  for (const EnsembleMember& m : ms) {
    if (m.divergent) continue;
    double np = 0.0, ni = 0.0, dot = 0.0;  // squared distances at the end and the start; half d(np)/dt
    for (std::size_t i = 0; i < d; ++i) {
      const double cp = m.prop.q[i] - mean_prop[i], ci = m.q0[i] - mean_init[i];
      np += cp * cp / minv[i];
      ni += ci * ci / minv[i];
      dot += cp * m.prop.p[i];
    }
    grad += m.accept * t * (np - ni) * dot;
    scale += m.accept * 0.5 * (np + ni);
  }
  grad /= wsum;
  scale /= wsum;
  return scale > 0 ? grad / (scale * scale) : grad;
}

// The metric: the cross-chain variance of the states, regularised as Stan's windows are, averaged in log
// space with weight w. Leaves the states' cross-chain mean in mean_q; var_q: scratch of the dimension.
void update_metric(const std::vector<EnsembleMember>& ms, double w, std::vector<double>& minv, std::vector<double>& mean_q,
                   std::vector<double>& var_q) {
  const std::size_t d = minv.size();
  const double n = static_cast<double>(ms.size());
  std::fill(mean_q.begin(), mean_q.end(), 0.0);
  std::fill(var_q.begin(), var_q.end(), 0.0);
  for (const EnsembleMember& m : ms)
    for (std::size_t i = 0; i < d; ++i) mean_q[i] += m.q[i] / n;
  for (const EnsembleMember& m : ms)
    for (std::size_t i = 0; i < d; ++i) var_q[i] += (m.q[i] - mean_q[i]) * (m.q[i] - mean_q[i]) / (n - 1);
  for (std::size_t i = 0; i < d; ++i) {
    const double v = (n / (n + 5.0)) * var_q[i] + 1e-3 * (5.0 / (n + 5.0));
    if (v > 0 && std::isfinite(v)) minv[i] = std::exp((1 - w) * std::log(minv[i]) + w * std::log(v));
  }
}

// The posterior's widest direction under the metric. ChEES's criterion weighs every direction, so where
// correlations that a diagonal metric leaves make a few directions much wider than the many (a
// hierarchical model's location and scale), its trajectory suits the many and the wide ones mix slowly
// (W3, W4, W5: 3-4x the ESS per gradient of the slowest parameters with 4x ChEES's length). The direction
// is learned across chains as SNAPER does (Sountsov & Hoffman 2022): the principal component v of the
// whitened states by a batched Oja rule, averaged over iterations with weight 1 / (points + 1), points
// growing as iteration / 8; beside it the variance along v, averaged alike. From a quarter of the
// adaptation on, trajectories are at least what ChEES would choose for that direction alone (so the
// chains also travel along it in warm-up: W3 started by Pathfinder near rho = 1 got there only this
// way), and so is T when it is frozen: for a normal of standard deviation s, whose
// criterion under a uniformly jittered length uT is 2 s^4 (1 - sin(2T/s) / (2T/s)), that is T = 2.2467 s
// (the first minimum of sin(x)/x, x = 4.4934). SNAPER's own criterion along v gave longer trajectories
// than ESS per gradient wants (W1, W5) and a collapsing step size on W3.
struct WidestDirection {
  double points = 1, var = 1;
  std::vector<double> v, isd, next;  // v: unit length in whitened coordinates

  explicit WidestDirection(std::size_t d) : v(d, 1.0 / std::sqrt(static_cast<double>(d))), isd(d), next(d) {}

  // ChEES's choice for this direction alone (see above)
  double trajectory() const { return 2.2467 * std::sqrt(var); }

  // mean: the states' cross-chain mean (update_metric's)
  void update(const std::vector<EnsembleMember>& ms, const std::vector<double>& mean, const std::vector<double>& minv, int it) {
    const std::size_t d = v.size();
    const double B = static_cast<double>(ms.size());
    for (std::size_t i = 0; i < d; ++i) isd[i] = 1.0 / std::sqrt(minv[i]);
    auto along = [&](const EnsembleMember& m, const std::vector<double>& u) {  // (whitened, centred state) . u
      double s = 0.0;
      for (std::size_t i = 0; i < d; ++i) s += (m.q[i] - mean[i]) * isd[i] * u[i];
      return s;
    };
    auto normalise = [](std::vector<double>& u) {
      double n = 0.0;
      for (double x : u) n += x * x;
      n = std::sqrt(n) + 1e-300;
      for (double& x : u) x /= n;
    };
    // Oja: the covariance times v, from the chains, normalised and averaged into v
    std::fill(next.begin(), next.end(), 0.0);
    for (const EnsembleMember& m : ms) {
      const double s = along(m, v);
      for (std::size_t i = 0; i < d; ++i) next[i] += s * (m.q[i] - mean[i]) * isd[i];
    }
    normalise(next);
    const double w = 1.0 / (points + 1.0);
    for (std::size_t i = 0; i < d; ++i) v[i] += w * (next[i] - v[i]);
    normalise(v);
    double var_v = 0.0;
    for (const EnsembleMember& m : ms) {
      const double s = along(m, v);
      var_v += s * s / (B - 1);
    }
    if (std::isfinite(var_v)) var += w * (var_v - var);
    points = std::min(points + 1.0, std::max(1.0, std::floor(static_cast<double>(it) / 8.0)));
  }
};

}  // namespace

struct CheesWarmup::Learned {
  Adam adam;
  WidestDirection widest;
  explicit Learned(std::size_t d) : widest(d) {}
};

CheesWarmup::CheesWarmup(std::size_t dim, int tune, const CheesSettings& settings)
    : set_(settings),
      tune_(tune),
      freeze_(static_cast<int>(settings.metric_freeze * tune)),
      minv_(dim, 1.0),
      mean_prop_(dim),
      mean_init_(dim),
      mean_q_(dim),
      var_q_(dim),
      learned_(std::make_unique<Learned>(dim)) {
  da_.delta = set_.target_accept;
}

CheesWarmup::~CheesWarmup() = default;

void CheesWarmup::init(std::vector<EnsembleMember>& ms, const std::function<void(int, double)>& run_all,
                       double initial) {
  const std::size_t B = ms.size();
  auto mean_accept = [&]() {
    double s = 0.0;
    for (const EnsembleMember& m : ms) s += m.accept;
    return s / static_cast<double>(B);
  };
  double eps = initial;
  std::vector<std::vector<double>> keep_q(B), keep_g(B);
  std::vector<double> keep_lp(B);
  for (std::size_t c = 0; c < B; ++c) keep_q[c] = ms[c].q, keep_g[c] = ms[c].g, keep_lp[c] = ms[c].lp;
  run_all(1, eps);
  const int dir = mean_accept() > 0.8 ? 1 : -1;
  for (int k = 0; k < 60; ++k) {
    for (std::size_t c = 0; c < B; ++c) ms[c].q = keep_q[c], ms[c].g = keep_g[c], ms[c].lp = keep_lp[c];
    const double next = dir > 0 ? eps * 2 : eps / 2;
    run_all(1, next);
    const double a = mean_accept();
    if ((dir > 0 && a < 0.8) || (dir < 0 && a > 0.8)) {
      eps = dir > 0 ? eps : next;
      break;
    }
    eps = next;
  }
  for (std::size_t c = 0; c < B; ++c) ms[c].q = keep_q[c], ms[c].g = keep_g[c], ms[c].lp = keep_lp[c];
  eps_ = eps;
  da_.restart(eps);
  log_T_ = log_T_avg_ = std::log(eps);
  T_ = eps;
}

void CheesWarmup::restore(const ChainState& s0) {
  const CheesShared& saved = std::get<CheesShared>(s0.ensemble);
  eps_ = s0.step_size;
  minv_ = s0.inv_metric;
  da_.mu = saved.da.mu, da_.s_bar = saved.da.s_bar, da_.x_bar = saved.da.x_bar, da_.counter = saved.da.counter;
  Adam& adam = learned_->adam;
  adam.m = saved.adam_m, adam.v = saved.adam_v, adam.t = saved.adam_t;
  log_T_ = saved.log_T, log_T_avg_ = saved.log_T_avg, T_ = saved.T;
  if (saved.has_widest) {  // states saved before it was learned start it afresh
    WidestDirection& widest = learned_->widest;
    widest.points = saved.widest_points, widest.var = saved.widest_var;
    widest.v = saved.widest_v;
  }
}

void CheesWarmup::save(ChainState& st) const {
  const Learned& l = *learned_;
  CheesShared shared;
  shared.da = da_;
  shared.adam_m = l.adam.m, shared.adam_v = l.adam.v, shared.adam_t = l.adam.t;
  shared.log_T = log_T_, shared.log_T_avg = log_T_avg_, shared.T = T_;
  shared.has_widest = true;
  shared.widest_points = l.widest.points, shared.widest_var = l.widest.var, shared.widest_v = l.widest.v;
  st.step_size = eps_;
  st.inv_metric = minv_;
  st.ensemble = std::move(shared);
}

CheesPlan CheesWarmup::plan(int it) const {
  CheesPlan p;
  p.u = halton2(it + 1);
  // from a quarter of the adaptation on, the trajectories already follow the widest direction, so the
  // chains travel along it while the metric and step size are learned
  const bool stretch = it < tune_ && it + 1 < freeze_ && 4 * it >= freeze_;
  p.T_run = stretch ? std::max(T_, learned_->widest.trajectory()) : T_;
  p.L = std::clamp(static_cast<int>(std::ceil(p.u * p.T_run / eps_)), 1, set_.max_leapfrog);
  return p;
}

bool CheesWarmup::update(const std::vector<EnsembleMember>& ms, int it, const CheesPlan& plan) {
  WidestDirection& widest = learned_->widest;
  // step size: dual averaging on the harmonic mean of the acceptance probabilities
  double inv_sum = 0.0;
  int n_ok = 0;
  for (const EnsembleMember& m : ms)
    if (!m.divergent) inv_sum += 1.0 / std::max(m.accept, 1e-20), ++n_ok;
  const double harmonic = n_ok ? n_ok / inv_sum : 0.0;
  const double next_eps = da_.learn(harmonic);
  eps_ = std::isfinite(next_eps) ? next_eps : eps_;
  if (it + 1 < freeze_) {
    const double log_T_before = log_T_;
    if (plan.T_run <= T_) {  // where the widest direction's length ran instead, the criterion does not depend on T
      const double grad = chees_gradient(ms, minv_, plan.u * T_, mean_prop_, mean_init_);
      if (std::isfinite(grad)) log_T_ += std::clamp(learned_->adam.step(grad, set_.adam_rate), -0.35, 0.35);
    }
    const double w = std::pow(static_cast<double>(it + 1), -0.5);
    log_T_avg_ = (1 - w) * log_T_avg_ + w * log_T_;
    // a trajectory is at least one step and at most max_leapfrog: the state stays inside, so it can
    // follow the step size as dual averaging moves it. Only down, though: a step size that dual
    // averaging's first exploring iterations make large must not push T up with it, since with
    // jitter ChEES's criterion has local maxima at 2.25, 5.45, ... standard deviations and Adam
    // climbs to the nearest one (W1 seed 2: a step size of 7.45 in iteration 1 left T at 12, against
    // 3.6, for a third of the ESS per gradient)
    log_T_ = std::clamp(log_T_, std::min(std::log(eps_), log_T_before), std::log(set_.max_leapfrog * eps_));
    update_metric(ms, w, minv_, mean_q_, var_q_);
    widest.update(ms, mean_q_, minv_, it);
    T_ = std::clamp(std::exp(log_T_avg_), eps_, set_.max_leapfrog * eps_);
    return true;
  }
  if (it + 1 == freeze_) {
    // the metric and the trajectory are final, the trajectory long enough for the widest direction;
    // the step size adapts to them afresh
    T_ = std::clamp(std::max(std::exp(log_T_avg_), widest.trajectory()), eps_, set_.max_leapfrog * eps_);
    da_.restart(eps_);
  }
  return false;
}

}  // namespace brr::infer
