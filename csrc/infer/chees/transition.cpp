// One ChEES transition of every chain: see transition.hpp.
#include "infer/chees/transition.hpp"

namespace brr::infer {

EnsembleTransition::EnsembleTransition(BatchLogDensity& batch, std::size_t dim)
    : batch_(batch), d_(dim), X_(batch.lanes() * dim), G_(X_.size()), LP_(batch.lanes()), ST_(batch.lanes()) {
  // where the batch steps whole trajectories itself (a device), the chains' starts go in and their ends
  // come out, once per trajectory instead of once per step
  if (batch.has_leapfrog()) {
    P_.resize(X_.size());
    OK_.resize(batch.lanes());
    EV_.resize(batch.lanes());
  }
}

void EnsembleTransition::operator()(std::vector<EnsembleMember>& ms, Hamiltonian& h, int L, double eps) {
  const std::size_t d = d_, B = ms.size();
  for (EnsembleMember& m : ms) m.begin(h);
  if (batch_.has_leapfrog()) {
    for (std::size_t c = 0; c < B; ++c) {
      const EnsembleMember& m = ms[c];
      std::copy_n(m.prop.q.data(), d, X_.data() + c * d);
      std::copy_n(m.prop.p.data(), d, P_.data() + c * d);
      std::copy_n(m.prop.g.data(), d, G_.data() + c * d);
      LP_[c] = m.prop.logp;
    }
    batch_.leapfrog({X_.data(), P_.data(), G_.data(), LP_.data(), OK_.data(), EV_.data()},
                    h.metric().inv_diag().data(), eps, L);
    for (std::size_t c = 0; c < B; ++c) {
      EnsembleMember& m = ms[c];
      std::copy_n(X_.data() + c * d, d, m.prop.q.data());
      std::copy_n(P_.data() + c * d, d, m.prop.p.data());
      std::copy_n(G_.data() + c * d, d, m.prop.g.data());
      m.prop.logp = LP_[c];
      m.ok = OK_[c] != 0;
      m.grad_evals += EV_[c];
    }
    for (EnsembleMember& m : ms) m.finish(h);
    return;
  }
  for (int s = 0; s < L; ++s) {
    bool any = false;
    for (std::size_t c = 0; c < B; ++c) {
      EnsembleMember& m = ms[c];
      if (m.ok) h.drift(m.prop, eps);
      any |= m.ok;
      const std::vector<double>& at = m.ok ? m.prop.q : m.q;
      std::copy(at.begin(), at.end(), X_.begin() + static_cast<std::ptrdiff_t>(c * d));
    }
    if (!any) break;
    batch_.logp_grad(X_.data(), G_.data(), LP_.data(), ST_.data());
    for (std::size_t c = 0; c < B; ++c)
      if (ms[c].ok) ms[c].land(h, G_.data() + c * d, LP_[c], ST_[c], eps, batch_.last_failure(c));
  }
  for (EnsembleMember& m : ms) m.finish(h);
}

}  // namespace brr::infer
