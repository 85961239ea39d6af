// Chain initialisation (Stan's uniform(-2, 2) with retries) and its step: a transition, and during
// warm-up the warm-up's update (nuts/warmup.hpp).
#include "infer/nuts/chain.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace brr::infer {

Chain::Chain(LogDensity& density, const ChainConfig& config, const std::vector<double>& init)
    : cfg_(config),
      density_(density),
      metric_(density.dim(), config.dense),
      nuts_(density, metric_, config.max_depth),
      warmup_(cfg_) {
  st_.rng = Rng(cfg_.seed, static_cast<uint64_t>(cfg_.chain));
  z_.resize(density.dim());
  initialize(init);
  warmup_.init(st_, *this, z_);
  st_.position = z_.q;
}

void Chain::initialize(const std::vector<double>& init) {
  const std::size_t d = density_.dim();
  if (!init.empty()) {
    if (init.size() != d) throw std::invalid_argument("initial point has the wrong size");
    z_.q = init;
    if (!nuts_.evaluate(z_))
      throw std::invalid_argument("the log density or its gradient is not finite at the given initial values; "
                                  "choose initial values inside the support with finite density");
    return;
  }
  for (int t = 0; t < cfg_.max_init_tries; ++t) {
    for (std::size_t i = 0; i < d; ++i) z_.q[i] = cfg_.init_radius * (2.0 * st_.rng.uniform() - 1.0);
    if (nuts_.evaluate(z_)) return;
  }
  throw std::runtime_error("could not find a starting point with finite log density and gradient after " +
                           std::to_string(cfg_.max_init_tries) +
                           " tries in uniform(-2, 2); check the model's priors, bounds and data, or pass init=");
}

void Chain::set_metric(const std::vector<double>& inv) {
  if (cfg_.dense) metric_.set_inv_dense(inv);
  else metric_.set_inv_diag(inv);
}

void Chain::set_low_rank_metric(const std::vector<double>& inv, const LowRankFactor& f) {
  metric_.set_low_rank(inv, f);
}

TransitionStats Chain::step() {
  if (!warmup()) {
    TransitionStats s = nuts_.transition(z_, st_.step_size, st_.rng);
    ++st_.iteration;
    return s;
  }
  const bool track = warmup_.needs_moved();
  if (track) prev_q_ = z_.q;  // same size every draw: no allocation
  TransitionStats s = nuts_.transition(z_, st_.step_size, st_.rng);
  warmup_.update(st_, *this, z_, s.accept_stat, !track || z_.q != prev_q_);
  if (st_.iteration == cfg_.tune - 1) warmup_.final(st_);
  ++st_.iteration;
  return s;
}

ChainState Chain::state() const {
  ChainState s = st_;
  s.position = z_.q;
  return s;
}

void Chain::restore(const ChainState& s) {
  st_ = s;
  if (cfg_.low_rank) metric_.set_low_rank(s.inv_metric, s.low_rank);
  else set_metric(s.inv_metric);
  z_.q = s.position;
  if (!nuts_.evaluate(z_)) throw std::invalid_argument("restored position has a non-finite log density");
}

}  // namespace brr::infer
