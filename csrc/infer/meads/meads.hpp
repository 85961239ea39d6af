// MEADS (Hoffman & Sountsov, AISTATS 2022, "Tuning-free generalized Hamiltonian Monte Carlo"): many
// chains in lock-step, each running generalized HMC (one leapfrog step per iteration, partial momentum
// refreshment, Neal's non-reversible slice for the accept test), tuned across chains with no step-size
// search or trajectory-length schedule.
// - The chains are split into K = 4 folds. In warm-up iteration t, fold t mod K stands still and every
//   other fold k takes its parameters from fold k - 1's current states: the preconditioner sigma (the
//   fold's per-dimension standard deviation), the step size 0.5 / sqrt(lambda_max) of the preconditioned
//   gradients (capped at 1), the damping gamma = max(1 / sqrt(lambda_max) of the standardised positions,
//   1 / (t eps)), alpha = 1 - exp(-2 eps gamma), slice drift delta = alpha / 2. As no fold's kernel
//   depends on its own chains, each fold's move leaves the target invariant. lambda_max is the
//   paper's estimate (sum of squared eigenvalues over their sum, from the chains' Gram matrix).
// - Every K iterations the chains are dealt to the folds afresh (a permutation from the seed and the
//   iteration), so no fold keeps a bad set of chains.
// - After warm-up every chain samples with the folds' mean parameters, fixed.
// Cross-chain work runs in chain order on one thread, so the draws do not depend on the thread count.
// Every chain's final state holds its position, RNG, momentum, slice value and fold
// (ChainState::ensemble: a GhmcChainState, infer/ensemble_state.hpp; step_size and inv_metric hold
// eps and sigma^2), so a run continued from those states draws what the uninterrupted run would have.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "infer/lockstep.hpp"
#include "infer/meads/warmup.hpp"

namespace brr::infer {

class MeadsRun : public LockstepRun {
 public:
  // ChainState::ensemble holds a GhmcChainState (infer/ensemble_state.hpp)
  // resume: empty, or a state for every chain (all at the same iteration, from a MEADS run)
  MeadsRun(std::shared_ptr<const infer::LogDensityFactory> factory, infer::SamplerConfig cfg,
           std::vector<std::vector<double>> inits, std::vector<std::optional<infer::ChainState>> resume = {});
  ~MeadsRun() override { halt(); }

 private:
  void run() override;
  MeadsSettings set_;
};

}  // namespace brr::infer
