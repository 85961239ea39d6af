// The leapfrog's arithmetic, per coordinate: the one definition every integrator uses. The host samplers
// step through infer::Metric::drift and kick (NUTS, ChEES and MEADS alike, see infer/hamiltonian.hpp) and
// the device's trajectory kernels (backend/leapfrog_kernels.hpp) through these same two functions, so a
// trajectory stepped on either gives the same bits. T is double, or a pair of doubles for the host's
// two-lane loops.
#pragma once

#include "common/hd.hpp"

namespace brr {

// half a momentum step: p + (eps / 2) g, half_eps = 0.5 * eps
template <class T>
BRR_HD inline T half_kicked(T p, T half_eps, T g) {
  return p + half_eps * g;
}

// a position step: q + eps v, where v = M^{-1} p is the velocity
template <class T>
BRR_HD inline T drifted(T q, T eps, T v) {
  return q + eps * v;
}

}  // namespace brr
