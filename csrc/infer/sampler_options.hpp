// The options of the lock-step samplers, with their defaults (NUTS's are ChainConfig's, chain_state.hpp).
// A run's SamplerConfig holds one of each; the registry (registry.cpp) names every option of every sampler,
// checks the values a user gives and reads the defaults Python shows from here.
#pragma once

namespace brr::infer {

// ChEES-HMC (chees/): Hoffman, Radul & Sountsov (2021)
struct CheesSettings {
  double target_accept = 0.651;  // the paper's: the harmonic-mean acceptance the step size is tuned to
  int max_leapfrog = 1000;       // a trajectory's leapfrog steps at most
  double adam_rate = 0.025;      // Adam's learning rate on log T
  double metric_freeze = 0.8;    // fraction of warm-up after which the metric stays fixed
};

// MEADS (meads/): Hoffman & Sountsov (2022)
struct MeadsSettings {
  int folds = 4;                 // the chains split into this many folds, each tuned by another
  double step_multiplier = 0.5;  // eps = step_multiplier / sqrt(lambda_max of the preconditioned gradients)
  double divergence = 1000;      // energy error that counts as a divergence
};

}  // namespace brr::infer
