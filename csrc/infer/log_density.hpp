// The sampler's only view of a model: a dimension and the log density with its gradient, at one point
// (LogDensity) or at a batch of points in one call (BatchLogDensity, for lock-step ensembles).
#pragma once
#include <cstddef>
#include <memory>
#include <stdexcept>

#include "common/divergence.hpp"

namespace brr::infer {

enum class LogpStatus { Ok, Recoverable, Fatal };  // Recoverable: treated as a divergence

class LogDensity {
 public:
  virtual ~LogDensity() = default;
  virtual std::size_t dim() const = 0;
  virtual LogpStatus logp_grad(const double* x, double* grad, double& logp) = 0;
  // Why the last evaluation gave no usable value, where the density knows (an ODE solve that stopped
  // short); None when it does not, and the sampler names the non-finite value itself.
  virtual Divergence last_failure() const { return Divergence::None; }
};

class BatchLogDensity {
 public:
  virtual ~BatchLogDensity() = default;
  virtual std::size_t dim() const = 0;
  virtual std::size_t lanes() const = 0;
  // X, G: lanes x dim, row-major; lp, status: one per lane. Row b's results must not depend on the
  // other rows, so an ensemble draws the same whichever way its points are evaluated.
  virtual void logp_grad(const double* X, double* G, double* lp, LogpStatus* status) = 0;
  // Why lane b of the last call gave no usable value, where the density knows (LogDensity's last_failure)
  virtual Divergence last_failure(std::size_t /*lane*/) const { return Divergence::None; }

  // Optional: L leapfrog steps of every lane run where the gradients are computed (a GPU keeps the
  // lanes' positions, momenta and gradients there, so only the trajectories' ends cross). A live lane
  // steps p += eps/2 g, q += eps (minv p), (lp, g) at q, p += eps/2 g while lp and g are finite; at a
  // point where they are not it stops (ok = 0) with that point's q, lp and g and p after the first half
  // kick. The arithmetic is a host loop's over logp_grad, so an ensemble draws the same either way.
  struct Trajectories {
    double *q, *p, *g, *lp;  // lanes x dim (lp: lanes): the starts in, the ends out
    unsigned char* ok;       // lanes, out
    long long* evals;        // lanes, out: each lane's evaluations
  };
  virtual bool has_leapfrog() const { return false; }
  virtual void leapfrog(const Trajectories&, const double* /*minv*/, double /*eps*/, int /*L*/) {
    throw std::logic_error("this batch log density steps no trajectories (has_leapfrog() is false)");
  }
};

// Makes evaluators so that chains never share buffers.
class LogDensityFactory {
 public:
  virtual ~LogDensityFactory() = default;
  virtual std::size_t dim() const = 0;
  virtual std::unique_ptr<LogDensity> make() const = 0;
  // A batch of `lanes` points on `threads` threads. The default runs one make() per lane.
  virtual std::unique_ptr<BatchLogDensity> make_batch(std::size_t lanes, int threads) const;
};

}  // namespace brr::infer
