// The ChEES-HMC ensemble: see chees.hpp.
#include "infer/chees/chees.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "infer/adaptation.hpp"
#include "infer/hamiltonian.hpp"
#include "infer/chees/state.hpp"
#include "infer/chees/transition.hpp"
#include "infer/lockstep.hpp"
#include "infer/rng.hpp"

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

CheesRun::CheesRun(std::shared_ptr<const infer::LogDensityFactory> factory, infer::SamplerConfig cfg,
                   std::vector<std::vector<double>> inits, std::vector<std::optional<infer::ChainState>> resume,
                   CheesSettings settings)
    : LockstepRun(std::move(factory), std::move(cfg), std::move(inits), std::move(resume), "chees", "ChEES",
                  CheesShared::fits),
      set_(settings) {}

void CheesRun::run() {
  const std::size_t d = factory_->dim();
  const int B = cfg_.chains, tune = cfg_.chain.tune, total = cfg_.total(0);
  const bool resumed = !resume_.empty();
  std::vector<EnsembleMember> ms(static_cast<std::size_t>(B));
  for (int c = 0; c < B; ++c) {
    EnsembleMember& m = ms[c];
    m.density = factory_->make();
    m.rng = infer::Rng(cfg_.chain.seed, cfg_.chain_id(c));
    for (auto* v : {&m.q, &m.g, &m.q0}) v->assign(d, 0.0);
    m.prop.resize(d);
    if (resumed) {  // the gradient at the saved position is recomputed: the same function of it
      m.q = resume_[c]->position;
      m.rng = resume_[c]->rng;
      if (!m.eval(m.q.data(), m.g.data(), m.lp))
        throw std::runtime_error("resume: the log density is not finite at a saved chain position");
      continue;
    }
    m.grad_evals += find_start(*m.density, m.rng, cfg_, c < static_cast<int>(inits_.size()) ? &inits_[c] : nullptr,
                               m.q, m.g, m.lp);
  }
  const int threads = std::max(1, std::min(cfg_.threads, B));
  std::unique_ptr<infer::BatchLogDensity> batch = factory_->make_batch(static_cast<std::size_t>(B), threads);
  std::vector<double> minv(d, 1.0);  // the adapted diagonal metric; `metric` follows it
  infer::Metric metric(d, false);
  infer::Hamiltonian ham(metric);
  EnsembleTransition transition(*batch, d);
  // L leapfrog steps of size eps for every chain
  auto for_all = [&](int L, double eps) { transition(ms, ham, L, eps); };
  auto mean_accept = [&]() {
    double s = 0.0;
    for (const EnsembleMember& m : ms) s += m.accept;
    return s / B;
  };
  infer::DualAveraging da;
  da.delta = set_.target_accept;
  Adam adam;
  WidestDirection widest(d);
  double eps = cfg_.chain.initial_step_size, log_T = 0, log_T_avg = 0, T = 0;
  int start = 0;
  if (resumed) {
    const infer::ChainState& s0 = *resume_[0];
    const CheesShared saved = CheesShared::decode(s0.ensemble, d);
    eps = s0.step_size;
    minv = s0.inv_metric;
    metric.set_inv_diag(minv);
    start = s0.iteration;
    da.mu = saved.da.mu, da.s_bar = saved.da.s_bar, da.x_bar = saved.da.x_bar, da.counter = saved.da.counter;
    adam.m = saved.adam_m, adam.v = saved.adam_v, adam.t = saved.adam_t;
    log_T = saved.log_T, log_T_avg = saved.log_T_avg, T = saved.T;
    if (saved.has_widest) {  // states saved before it was learned start it afresh
      widest.points = saved.widest_points, widest.var = saved.widest_var;
      widest.v = saved.widest_v;
    }
  } else {
    // a first step size: doubled or halved until one leapfrog step's mean acceptance crosses 0.8
    std::vector<std::vector<double>> keep_q(B), keep_g(B);
    std::vector<double> keep_lp(B);
    for (int c = 0; c < B; ++c) keep_q[c] = ms[c].q, keep_g[c] = ms[c].g, keep_lp[c] = ms[c].lp;
    for_all(1, eps);
    const int dir = mean_accept() > 0.8 ? 1 : -1;
    for (int k = 0; k < 60; ++k) {
      for (int c = 0; c < B; ++c) ms[c].q = keep_q[c], ms[c].g = keep_g[c], ms[c].lp = keep_lp[c];
      const double next = dir > 0 ? eps * 2 : eps / 2;
      for_all(1, next);
      const double a = mean_accept();
      if ((dir > 0 && a < 0.8) || (dir < 0 && a > 0.8)) {
        eps = dir > 0 ? eps : next;
        break;
      }
      eps = next;
    }
    for (int c = 0; c < B; ++c) ms[c].q = keep_q[c], ms[c].g = keep_g[c], ms[c].lp = keep_lp[c];
    da.restart(eps);
    log_T = log_T_avg = std::log(eps);
    T = eps;
  }
  const int freeze = static_cast<int>(set_.metric_freeze * tune);
  std::vector<double> mean_prop(d), mean_init(d), mean_q(d), var_q(d);
  // where chain c stands before iteration `next`: a later run continues from here
  auto state_of = [&](int c, int next) {
    CheesShared shared;
    shared.da = da;
    shared.adam_m = adam.m, shared.adam_v = adam.v, shared.adam_t = adam.t;
    shared.log_T = log_T, shared.log_T_avg = log_T_avg, shared.T = T;
    shared.has_widest = true;
    shared.widest_points = widest.points, shared.widest_var = widest.var, shared.widest_v = widest.v;
    infer::ChainState st;
    st.position = ms[c].q;
    st.step_size = eps;
    st.iteration = next;
    st.inv_metric = minv;
    st.rng = ms[c].rng;
    st.ensemble = shared.encode();
    return st;
  };
  int answered = 0;
  int it = start;
  for (; it < total && !stop_.load(); ++it) {
    const bool warm = it < tune;
    const double u = halton2(it + 1);
    // from a quarter of the adaptation on, the trajectories already follow the widest direction, so the
    // chains travel along it while the metric and step size are learned
    const bool stretch = warm && it + 1 < freeze && 4 * it >= freeze;
    const double T_run = stretch ? std::max(T, widest.trajectory()) : T;
    const int L = std::clamp(static_cast<int>(std::ceil(u * T_run / eps)), 1, set_.max_leapfrog);
    for_all(L, eps);
    if (warm) {
      // step size: dual averaging on the harmonic mean of the acceptance probabilities
      double inv_sum = 0.0;
      int n_ok = 0;
      for (const EnsembleMember& m : ms)
        if (!m.divergent) inv_sum += 1.0 / std::max(m.accept, 1e-20), ++n_ok;
      const double harmonic = n_ok ? n_ok / inv_sum : 0.0;
      const double next_eps = da.learn(harmonic);
      eps = std::isfinite(next_eps) ? next_eps : eps;
      if (it + 1 < freeze) {
        const double log_T_before = log_T;
        if (T_run <= T) {  // where the widest direction's length ran instead, the criterion does not depend on T
          const double grad = chees_gradient(ms, minv, u * T, mean_prop, mean_init);
          if (std::isfinite(grad)) log_T += std::clamp(adam.step(grad, set_.adam_rate), -0.35, 0.35);
        }
        const double w = std::pow(static_cast<double>(it + 1), -0.5);
        log_T_avg = (1 - w) * log_T_avg + w * log_T;
        // a trajectory is at least one step and at most max_leapfrog: the state stays inside, so it can
        // follow the step size as dual averaging moves it. Only down, though: a step size that dual
        // averaging's first exploring iterations make large must not push T up with it, since with
        // jitter ChEES's criterion has local maxima at 2.25, 5.45, ... standard deviations and Adam
        // climbs to the nearest one (W1 seed 2: a step size of 7.45 in iteration 1 left T at 12, against
        // 3.6, for a third of the ESS per gradient)
        log_T = std::clamp(log_T, std::min(std::log(eps), log_T_before), std::log(set_.max_leapfrog * eps));
        update_metric(ms, w, minv, mean_q, var_q);
        metric.set_inv_diag(minv);
        widest.update(ms, mean_q, minv, it);
        T = std::clamp(std::exp(log_T_avg), eps, set_.max_leapfrog * eps);
      } else if (it + 1 == freeze) {
        // the metric and the trajectory are final, the trajectory long enough for the widest direction;
        // the step size adapts to them afresh
        T = std::clamp(std::max(std::exp(log_T_avg), widest.trajectory()), eps, set_.max_leapfrog * eps);
        da.restart(eps);
      }
      if (it + 1 == tune) eps = da.final_step_size();
    }
    for (int c = 0; c < B; ++c) {
      EnsembleMember& m = ms[c];
      infer::ChainTrace& t = *traces[c];
      if (m.divergent && !warm) t.divergences.fetch_add(1);
      if (!warm || cfg_.keep_warmup)
        t.record(m.q.data(), eps, m.energy, m.energy_error, m.accept, m.lp, 0, L,
                 divergence_of(m.divergent, m.energy_error, m.failure), warm);
      t.step_size.store(eps);
      t.done.store(it + 1);
      t.grad_evals = m.grad_evals;
    }
    if (snapshot_due(cfg_.snapshot_every, start, it + 1, total, answered))
      for (int c = 0; c < B; ++c) traces[c]->push_snapshot({traces[c]->saved.load(), ms[c].grad_evals, state_of(c, it + 1)});
  }
  for (int c = 0; c < B; ++c) {
    traces[c]->final_state = state_of(c, it);
    traces[c]->has_state = true;
  }
}

}  // namespace brr::infer
