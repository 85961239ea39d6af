// Kernels of a leapfrog trajectory run where the lanes' gradients are computed (the device executor's
// GridExecutor::leapfrog): positions q, momenta p and gradients g stay on the device for all L steps, so
// only the trajectory's two ends cross to the host. Layout as every grid kernel: element i of lane b at
// i * B + b. The arithmetic is the host integrator's (half kick, drift; evaluate; half kick), through
// the same two functions (common/leapfrog_math.hpp), so a host run of these kernels gives the host
// loop's bits.
#pragma once
#include <cmath>
#include <cstddef>

#include "common/hd.hpp"
#include "common/leapfrog_math.hpp"

namespace brr::backend::grid {

// a live lane's first half kick and drift: p += eps/2 g, q += eps minv p
struct LeapDrift {
  double *q, *p;
  const double *g, *minv;
  const unsigned char* ok;
  double eps;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    if (!ok[k % B]) return;
    p[k] = half_kicked(p[k], 0.5 * eps, g[k]);
    q[k] = drifted(q[k], eps, minv[k / B] * p[k]);
  }
};

// whether lane b's new point is usable: finite log density and gradient (one thread per lane, reading
// element after element, so a warp's loads of one element are adjacent)
struct LeapUsable {
  const double *lp, *grad;
  unsigned char* usable;
  std::size_t d, B;
  BRR_HD void operator()(std::size_t b) const {
    bool u = std::isfinite(lp[b]);
    for (std::size_t i = 0; u && i < d; ++i) u = std::isfinite(grad[i * B + b]);
    usable[b] = u;
  }
};

// a live lane takes its new gradient and, where the point is usable, the second half kick
struct LeapKick {
  double *p, *g;
  const double* grad;
  const unsigned char *ok, *usable;
  double eps;
  std::size_t B;
  BRR_HD void operator()(std::size_t k) const {
    const std::size_t b = k % B;
    if (!ok[b]) return;
    g[k] = grad[k];
    if (usable[b]) p[k] = half_kicked(p[k], 0.5 * eps, g[k]);
  }
};

// a live lane counts the evaluation, keeps its log density, and ends where the point was not usable
struct LeapLanes {
  double* lp;
  const double* target;
  unsigned char* ok;
  const unsigned char* usable;
  long long* evals;
  BRR_HD void operator()(std::size_t b) const {
    if (!ok[b]) return;
    ++evals[b];
    lp[b] = target[b];
    ok[b] = usable[b];
  }
};

}  // namespace brr::backend::grid
