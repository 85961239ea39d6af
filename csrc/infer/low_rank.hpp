// The low-rank part of nutpie's low-rank + diagonal metric (nuts-rs low_rank_mass_matrix.rs):
// with draws and gradients rescaled by the Fisher diagonal's standard deviations, the SPD geometric
// mean of the (regularised) draw covariance and inverse gradient covariance is estimated on the
// subspace the draws and gradients span; its eigen-directions with eigenvalues outside [1/c, c]
// correct the diagonal: M^{-1} = S (I + U (diag(vals) - 1) U^T) S, S = diag(stds).
#pragma once
#include <cstddef>
#include <vector>

namespace brr::infer {

struct LowRankFactor {
  std::vector<double> vecs;  // r x d: row j is the unit eigen-direction of vals[j]
  std::vector<double> vals;  // r eigenvalues (the variance factor along that direction)
  std::size_t rank() const { return vals.size(); }
};

struct LowRankSettings {
  double gamma = 1e-5;    // regularisation, as nuts-rs
  double cutoff = 2.0;    // directions with eigenvalue in [1/cutoff, cutoff] are left to the diagonal
  // the most extreme directions kept: each costs 4 d flops per leapfrog, and on W3 (d = 1,804) 16
  // directions gave the ESS per gradient of 64 at half the run time
  std::size_t max_rank = 16;
};

// draws, grads: n x d row-major (one row per stored draw); stds: the diagonal's standard deviations.
LowRankFactor estimate_low_rank(const std::vector<double>& draws, const std::vector<double>& grads, std::size_t n,
                                std::size_t d, const std::vector<double>& stds, const LowRankSettings& settings);

}  // namespace brr::infer
