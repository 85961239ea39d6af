// One MEADS transition of every chain: see transition.hpp.
#include "infer/meads/transition.hpp"

namespace brr::infer {

GhmcTransition::GhmcTransition(BatchLogDensity& batch, std::size_t dim)
    : batch_(batch), d_(dim), X_(batch.lanes() * dim), G_(X_.size()), LP_(batch.lanes()), ST_(batch.lanes()) {}

void GhmcTransition::operator()(std::vector<GhmcMember>& ms, const std::vector<const Tuning*>& tuning,
                                double divergence) {
  const std::size_t d = d_, B = ms.size();
  // one Hamiltonian per distinct tuning (the folds'): each refers to its tuning's metric
  std::vector<const Tuning*> seen;
  std::vector<Hamiltonian> hams;
  std::vector<std::size_t> which(B, 0);
  for (std::size_t c = 0; c < B; ++c) {
    if (!tuning[c]) continue;
    const auto at = std::find(seen.begin(), seen.end(), tuning[c]);
    which[c] = static_cast<std::size_t>(at - seen.begin());
    if (at == seen.end()) {
      seen.push_back(tuning[c]);
      hams.emplace_back(tuning[c]->metric);
    }
  }
  for (std::size_t c = 0; c < B; ++c) {
    GhmcMember& m = ms[c];
    m.moves = tuning[c] != nullptr;
    if (m.moves) m.drift(*tuning[c], hams[which[c]]);
    const std::vector<double>& at = m.moves ? m.prop.q : m.q;
    std::copy(at.begin(), at.end(), X_.begin() + static_cast<std::ptrdiff_t>(c * d));
  }
  batch_.logp_grad(X_.data(), G_.data(), LP_.data(), ST_.data());
  for (std::size_t c = 0; c < B; ++c)
    if (ms[c].moves)
      ms[c].land(G_.data() + c * d, LP_[c], ST_[c], *tuning[c], hams[which[c]], divergence, batch_.last_failure(c));
}

}  // namespace brr::infer
