// The lock-step samplers' own parts of a chain's state, beside its position, RNG, step size and metric:
// ChEES's shared adaptation and a MEADS chain's fold and momentum. ChainState holds one of them
// (EnsembleState); their fields are named once, in fields(), and state_codec.cpp saves them under "chees."
// and "meads.". They sit here, below the families, because the state every sampler saves is shared.
#pragma once
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "infer/adaptation.hpp"

namespace brr::infer {

// ChEES (chees/): the adaptation all chains share, the same in every chain's state.
struct CheesShared {
  static constexpr const char* kKey = "chees";
  DualAveraging da;                       // its mu, s_bar, x_bar, counter (delta is the run's setting)
  double adam_m = 0, adam_v = 0;          // Adam on log T: moments
  long adam_t = 0;                        // and steps taken
  double log_T = 0, log_T_avg = 0, T = 0;  // the trajectory length, its running average, the length used
  bool has_widest = false;                // false: a state saved before the widest direction was learned
  double widest_points = 1, widest_var = 1;
  std::vector<double> widest_v;           // unit length, one value per dimension

  bool fits(std::size_t dim) const { return has_widest ? widest_v.size() == dim : widest_v.empty(); }

  // Every field but the optional widest direction, by name; io(name, member) saves or loads it.
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io("dual_averaging.mu", s.da.mu);
    io("dual_averaging.s_bar", s.da.s_bar);
    io("dual_averaging.x_bar", s.da.x_bar);
    io("dual_averaging.counter", s.da.counter);
    io("adam.m", s.adam_m);
    io("adam.v", s.adam_v);
    io("adam.t", s.adam_t);
    io("log_T", s.log_T);
    io("log_T_avg", s.log_T_avg);
    io("T", s.T);
  }
  template <class Io, class Self>
  static void widest_fields(Io& io, Self& s) {
    io("widest.points", s.widest_points);
    io("widest.var", s.widest_var);
    io("widest.v", s.widest_v);
  }

  // Version 2's "ensemble" numbers: 10 (saved before the widest direction was learned) or 12 + dimension.
  static CheesShared from_v2(const std::vector<double>& e, std::size_t dim) {
    if (e.size() != 10 && e.size() != 12 + dim)
      throw std::invalid_argument("sampler='chees': a saved state's shared adaptation has " + std::to_string(e.size()) +
                                  " values; expected 10 or " + std::to_string(12 + dim));
    CheesShared s;
    s.da.mu = e[0], s.da.s_bar = e[1], s.da.x_bar = e[2], s.da.counter = e[3];
    s.adam_m = e[4], s.adam_v = e[5], s.adam_t = static_cast<long>(e[6]);
    s.log_T = e[7], s.log_T_avg = e[8], s.T = e[9];
    s.has_widest = e.size() == 12 + dim;
    if (s.has_widest) {
      s.widest_points = e[10], s.widest_var = e[11];
      s.widest_v.assign(e.begin() + 12, e.end());
    }
    return s;
  }
};

// MEADS (meads/): one chain's fold, slice value, the fixed damping and slice drift, and its momentum
// (eps and sigma^2 after warm-up are the state's step_size and inv_metric).
struct GhmcChainState {
  static constexpr const char* kKey = "meads";
  int fold = 0;
  double slice = 0, alpha = 1, delta = 0.5;
  std::vector<double> momentum;  // whitened: per unit of sigma

  // (the run checks the fold against its fold count)
  bool fits(std::size_t dim) const { return momentum.size() == dim && fold >= 0; }

  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io("fold", s.fold);
    io("slice", s.slice);
    io("alpha", s.alpha);
    io("delta", s.delta);
    io("momentum", s.momentum);
  }

  // Version 2's "ensemble" numbers: fold, slice, alpha, delta, then the momentum.
  static GhmcChainState from_v2(const std::vector<double>& e, std::size_t dim) {
    if (e.size() != 4 + dim || e[0] != std::floor(e[0]) || !(e[0] >= 0 && e[0] < 1e9))
      throw std::invalid_argument("sampler='meads': a saved chain state is malformed (" + std::to_string(e.size()) +
                                  " values; expected " + std::to_string(4 + dim) + ", a whole fold first)");
    GhmcChainState s;
    s.fold = static_cast<int>(e[0]);
    s.slice = e[1], s.alpha = e[2], s.delta = e[3];
    s.momentum.assign(e.begin() + 4, e.end());
    return s;
  }
};

}  // namespace brr::infer
