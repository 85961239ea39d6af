// MEADS's warm-up as BlackJAX shapes an adaptation: init (a run with no warm-up tunes once from the
// starting points) or restore (a saved state's fixed tuning), update (before warm-up iteration t: every
// fold but the one standing still takes its tuning from the fold before it), after (the chains dealt to
// the folds afresh every K iterations) and final (one tuning for every chain, from all of them). Each is
// a function of the chains' states, the seed and the iteration alone, so a resumed run continues with
// the same numbers. See meads.hpp for the method.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infer/chain_state.hpp"
#include "infer/meads/transition.hpp"
#include "infer/sampler_options.hpp"

namespace brr::infer {

class MeadsWarmup {
 public:
  MeadsWarmup(std::size_t dim, int chains, int tune, uint64_t seed, const MeadsSettings& settings);
  void init(const std::vector<GhmcMember>& ms);                // a fresh run
  void restore(const ChainState& saved, int iteration);        // a resumed run at `iteration`
  // Before iteration it: each chain's tuning, or nullptr for a chain of the fold that stands still.
  void update(const std::vector<GhmcMember>& ms, int it, std::vector<const Tuning*>& tunings);
  // After iteration it's transitions: deals the folds afresh, and after the last warm-up iteration
  // fixes the tuning (final).
  void after(std::vector<GhmcMember>& ms, int it);
  const Tuning& tuning(const GhmcMember& m, int it) const { return it < tune_ ? fold_tuning_[m.fold] : fixed_; }
  // The fixed tuning's part of chain m's saved state.
  void save(const GhmcMember& m, ChainState& st) const;

 private:
  void final(const std::vector<GhmcMember>& ms);
  MeadsSettings set_;
  int tune_;
  uint64_t seed_;
  Tuning fixed_;                         // after warm-up: every chain's, from all of them
  std::vector<Tuning> fold_tuning_;      // in warm-up: each fold's, set before it is used
  std::vector<std::vector<int>> members_;  // each fold's chains
  std::vector<int> all_;                   // every chain
};

}  // namespace brr::infer
