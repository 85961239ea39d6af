// The sampler's only view of a model: a dimension and the log density with its gradient.
#pragma once
#include <cstddef>
#include <memory>

namespace brr::nuts {

enum class LogpStatus { Ok, Recoverable, Fatal };  // Recoverable: treated as a divergence

class LogDensity {
 public:
  virtual ~LogDensity() = default;
  virtual std::size_t dim() const = 0;
  virtual LogpStatus logp_grad(const double* x, double* grad, double& logp) = 0;
};

// Makes one evaluator per chain so that chains never share buffers.
class LogDensityFactory {
 public:
  virtual ~LogDensityFactory() = default;
  virtual std::size_t dim() const = 0;
  virtual std::unique_ptr<LogDensity> make() const = 0;
};

}  // namespace brr::nuts
