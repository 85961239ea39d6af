// The default batch: one LogDensity per lane, lanes spread over a thread pool.
#include "infer/log_density.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "common/row_pool.hpp"

namespace brr::infer {

namespace {

class PerLaneBatch : public BatchLogDensity {
 public:
  PerLaneBatch(const LogDensityFactory& f, std::size_t lanes, int threads) : dim_(f.dim()), pool_(threads) {
    for (std::size_t b = 0; b < lanes; ++b) lanes_.push_back(f.make());
  }
  std::size_t dim() const override { return dim_; }
  std::size_t lanes() const override { return lanes_.size(); }
  void logp_grad(const double* X, double* G, double* lp, LogpStatus* status) override {
    pool_.run(lanes_.size(), [&](std::size_t b, int) {
      status[b] = lanes_[b]->logp_grad(X + b * dim_, G + b * dim_, lp[b]);
    });
  }

 private:
  std::size_t dim_;
  std::vector<std::unique_ptr<LogDensity>> lanes_;
  RowPool pool_;
};

}  // namespace

std::unique_ptr<BatchLogDensity> LogDensityFactory::make_batch(std::size_t lanes, int threads) const {
  if (lanes < 1) throw std::invalid_argument("make_batch: lanes must be >= 1");
  if (threads < 1) throw std::invalid_argument("make_batch: threads must be >= 1, got " + std::to_string(threads));
  return std::make_unique<PerLaneBatch>(*this, lanes, threads);
}

}  // namespace brr::infer
