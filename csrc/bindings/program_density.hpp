// Adapters from a Program or a Python callable to the sampler's LogDensity seam.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <vector>
#include <stdexcept>
#include <string>
#include <memory>

#include "ad/batch.hpp"
#include "ad/executor.hpp"
#include "common/external_batch.hpp"
#include "infer/log_density.hpp"

namespace brr::bind {

namespace py = pybind11;

class ProgramDensity : public infer::LogDensity {
 public:
  ProgramDensity(std::shared_ptr<const ir::Program> p, int row_threads)
      : p_(std::move(p)), ws_(ad::make_workspace(*p_, row_threads)) {}
  std::size_t dim() const override { return p_->dim(); }
  infer::LogpStatus logp_grad(const double* x, double* grad, double& logp) override {
    logp = ad::logp_grad(*p_, ws_, ConstSpan{x, p_->dim()}, Span{grad, p_->dim()});
    return ws_.failure == Divergence::None ? infer::LogpStatus::Ok : infer::LogpStatus::Recoverable;
  }
  Divergence last_failure() const override { return ws_.failure; }

 private:
  std::shared_ptr<const ir::Program> p_;
  ad::Workspace ws_;
};

// All of an ensemble's points in one call through the batch executor (ad/batch.hpp).
class ProgramBatch : public infer::BatchLogDensity {
 public:
  ProgramBatch(std::shared_ptr<const ir::Program> p, std::size_t lanes, int threads) : ev_(std::move(p), lanes, threads) {}
  std::size_t dim() const override { return ev_.dim(); }
  std::size_t lanes() const override { return ev_.lanes(); }
  void logp_grad(const double* X, double* G, double* lp, infer::LogpStatus* status) override {
    ev_.logp_grad(X, G, lp);
    for (std::size_t b = 0; b < ev_.lanes(); ++b)
      status[b] = ev_.failure(b) == Divergence::None ? infer::LogpStatus::Ok : infer::LogpStatus::Recoverable;
  }
  Divergence last_failure(std::size_t lane) const override { return ev_.failure(lane); }

 private:
  ad::BatchEvaluator ev_;
};

class ProgramFactory : public infer::LogDensityFactory {
 public:
  ProgramFactory(std::shared_ptr<const ir::Program> p, int row_threads) : p_(std::move(p)), row_threads_(row_threads) {}
  std::size_t dim() const override { return p_->dim(); }
  std::unique_ptr<infer::LogDensity> make() const override {
    return std::make_unique<ProgramDensity>(p_, row_threads_);
  }
  std::unique_ptr<infer::BatchLogDensity> make_batch(std::size_t lanes, int threads) const override {
    return std::make_unique<ProgramBatch>(p_, lanes, threads);
  }

 private:
  std::shared_ptr<const ir::Program> p_;
  int row_threads_;  // each chain's own threads for large GLM likelihoods
};

// Batches through an evaluator of another module (BrrExternalBatch: the CUDA device executor), single
// points (a starting point's check) through the Program on the CPU.
class ExternalBatch : public infer::BatchLogDensity {
 public:
  explicit ExternalBatch(const BrrExternalBatch* ext) : ext_(ext) {}
  std::size_t dim() const override { return ext_->dim; }
  std::size_t lanes() const override { return ext_->lanes; }
  void logp_grad(const double* X, double* G, double* lp, infer::LogpStatus* status) override {
    char err[512] = {0};
    const int rc = ext_->logp_grad(ext_->handle, X, G, lp, err, sizeof err);
    std::fill(status, status + ext_->lanes, rc == 0 ? infer::LogpStatus::Ok : infer::LogpStatus::Fatal);
    if (rc != 0) throw std::runtime_error(std::string("the device evaluation failed: ") + err);
  }
  bool has_leapfrog() const override { return ext_->leapfrog != nullptr; }
  void leapfrog(const Trajectories& t, const double* minv, double eps, int L) override {
    if (!ext_->leapfrog) return BatchLogDensity::leapfrog(t, minv, eps, L);
    char err[512] = {0};
    if (ext_->leapfrog(ext_->handle, t.q, t.p, t.g, t.lp, t.ok, t.evals, minv, eps, L, err, sizeof err) != 0)
      throw std::runtime_error(std::string("the device trajectories failed: ") + err);
  }

 private:
  const BrrExternalBatch* ext_;
};

class ExternalBatchFactory : public ProgramFactory {
 public:
  ExternalBatchFactory(std::shared_ptr<const ir::Program> p, const BrrExternalBatch* ext) : ProgramFactory(std::move(p), 1), ext_(ext) {}
  std::unique_ptr<infer::BatchLogDensity> make_batch(std::size_t lanes, int) const override {
    if (lanes != ext_->lanes)
      throw std::invalid_argument("the device evaluator holds " + std::to_string(ext_->lanes) + " points, the run has " +
                                  std::to_string(lanes) + " chains");
    return std::make_unique<ExternalBatch>(ext_);
  }

 private:
  const BrrExternalBatch* ext_;
};

// One chain's points through an evaluator of another module holding one lane (the device executor):
// NUTS on a GPU, for models whose cost is their data rows.
class ExternalDensity : public infer::LogDensity {
 public:
  explicit ExternalDensity(const BrrExternalBatch* ext) : ext_(ext) {}
  std::size_t dim() const override { return ext_->dim; }
  infer::LogpStatus logp_grad(const double* x, double* grad, double& logp) override {
    char err[512] = {0};
    if (ext_->logp_grad(ext_->handle, x, grad, &logp, err, sizeof err) != 0)
      throw std::runtime_error(std::string("the device evaluation failed: ") + err);
    return infer::LogpStatus::Ok;
  }

 private:
  const BrrExternalBatch* ext_;
};

// Per-chain evaluators (one lane each): make() hands each chain its own, in the order chains ask.
class ExternalChainsFactory : public ProgramFactory {
 public:
  ExternalChainsFactory(std::shared_ptr<const ir::Program> p, std::vector<const BrrExternalBatch*> exts)
      : ProgramFactory(std::move(p), 1), exts_(std::move(exts)) {}
  std::unique_ptr<infer::LogDensity> make() const override {
    const std::size_t k = next_.fetch_add(1);
    if (k >= exts_.size())
      throw std::logic_error("more chains than device evaluators (" + std::to_string(exts_.size()) + ")");
    return std::make_unique<ExternalDensity>(exts_[k]);
  }

 private:
  std::vector<const BrrExternalBatch*> exts_;
  mutable std::atomic<std::size_t> next_{0};
};

// f(x) -> (logp, grad); calls take the GIL, so chains using it run one at a time.
class CallableDensity : public infer::LogDensity {
 public:
  CallableDensity(py::object f, std::size_t dim) : f_(std::move(f)), dim_(dim) {}
  ~CallableDensity() override {
    py::gil_scoped_acquire gil;
    f_ = py::object();
  }
  std::size_t dim() const override { return dim_; }
  infer::LogpStatus logp_grad(const double* x, double* grad, double& logp) override {
    py::gil_scoped_acquire gil;
    try {
      py::array_t<double> xa(static_cast<py::ssize_t>(dim_), x);
      py::tuple r = f_(xa);
      logp = r[0].cast<double>();
      auto g = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(r[1]);
      if (!g || g.size() != static_cast<py::ssize_t>(dim_)) return infer::LogpStatus::Fatal;
      std::copy(g.data(), g.data() + dim_, grad);
      return infer::LogpStatus::Ok;
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_KeyboardInterrupt)) return infer::LogpStatus::Fatal;
      return infer::LogpStatus::Recoverable;
    }
  }

 private:
  py::object f_;
  std::size_t dim_;
};

class CallableFactory : public infer::LogDensityFactory {
 public:
  CallableFactory(py::object f, std::size_t dim) : f_(std::move(f)), dim_(dim) {}
  ~CallableFactory() override {
    py::gil_scoped_acquire gil;
    f_ = py::object();
  }
  std::size_t dim() const override { return dim_; }
  std::unique_ptr<infer::LogDensity> make() const override {
    py::gil_scoped_acquire gil;
    return std::make_unique<CallableDensity>(f_, dim_);
  }

 private:
  py::object f_;
  std::size_t dim_;
};

}  // namespace brr::bind
