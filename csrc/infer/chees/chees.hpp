// ChEES-HMC (Hoffman, Radul & Sountsov, AISTATS 2021): many chains in lock-step, each running
// jittered HMC with a shared step size, trajectory length and diagonal metric learned across chains.
// - step size: dual averaging of the chains' harmonic-mean acceptance towards 0.651;
// - trajectory length: Adam ascent on log T of the ChEES criterion (the change in the chains'
//   centred squared distance), its gradient weighted by acceptance; averaged with weights t^-1/2;
//   trajectories run at least what ChEES would choose for the posterior's widest direction alone (its
//   principal component in whitened coordinates, learned by SNAPER's batched Oja rule, Sountsov &
//   Hoffman 2022) from a quarter of the adaptation on, and T is at least that when frozen, so that a
//   few wide directions are not left to the many narrow ones' length;
// - metric: the cross-chain variance of the current states; metric and T frozen for the last fifth of
//   warm-up, where the step size adapts afresh;
// - each iteration uses ceil(u T / eps) leapfrog steps, u from a base-2 Halton sequence.
// Chain c draws its momenta and acceptances from RNG stream c; all cross-chain reductions run in
// chain order on one thread, so the draws do not depend on the number of threads.
// Every chain's final state holds its position and RNG and the shared adaptation (step size, metric,
// dual averaging, Adam and trajectory length: ChainState::ensemble), so a run continued from those
// states draws what the uninterrupted run would have drawn.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "infer/chees/warmup.hpp"
#include "infer/lockstep.hpp"

namespace brr::infer {

class CheesRun : public LockstepRun {
 public:
  // ChainState::ensemble holds the shared adaptation: a CheesShared (infer/ensemble_state.hpp)
  // resume: empty, or a state for every chain (all at the same iteration, from a ChEES run)
  CheesRun(std::shared_ptr<const infer::LogDensityFactory> factory, infer::SamplerConfig cfg,
           std::vector<std::vector<double>> inits, std::vector<std::optional<infer::ChainState>> resume = {});
  ~CheesRun() override { halt(); }

 private:
  void run() override;
  CheesSettings set_;
};

}  // namespace brr::infer
