// Adapters from a Program or a Python callable to the sampler's LogDensity seam.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <memory>

#include "ad/batch.hpp"
#include "ad/program.hpp"
#include "common/external_batch.hpp"
#include "nuts/log_density.hpp"

namespace brr::bind {

namespace py = pybind11;

class ProgramDensity : public nuts::LogDensity {
 public:
  ProgramDensity(std::shared_ptr<const ad::Program> p, int row_threads)
      : p_(std::move(p)), ws_(p_->make_workspace(row_threads)) {}
  std::size_t dim() const override { return p_->dim(); }
  nuts::LogpStatus logp_grad(const double* x, double* grad, double& logp) override {
    logp = p_->logp_grad(ws_, ConstSpan{x, p_->dim()}, Span{grad, p_->dim()});
    return nuts::LogpStatus::Ok;
  }

 private:
  std::shared_ptr<const ad::Program> p_;
  ad::Workspace ws_;
};

// All of an ensemble's points in one call through the batch executor (ad/batch.hpp).
class ProgramBatch : public nuts::BatchLogDensity {
 public:
  ProgramBatch(std::shared_ptr<const ad::Program> p, std::size_t lanes, int threads) : ev_(std::move(p), lanes, threads) {}
  std::size_t dim() const override { return ev_.dim(); }
  std::size_t lanes() const override { return ev_.lanes(); }
  void logp_grad(const double* X, double* G, double* lp, nuts::LogpStatus* status) override {
    ev_.logp_grad(X, G, lp);
    std::fill(status, status + ev_.lanes(), nuts::LogpStatus::Ok);
  }

 private:
  ad::BatchEvaluator ev_;
};

class ProgramFactory : public nuts::LogDensityFactory {
 public:
  ProgramFactory(std::shared_ptr<const ad::Program> p, int row_threads) : p_(std::move(p)), row_threads_(row_threads) {}
  std::size_t dim() const override { return p_->dim(); }
  std::unique_ptr<nuts::LogDensity> make() const override {
    return std::make_unique<ProgramDensity>(p_, row_threads_);
  }
  std::unique_ptr<nuts::BatchLogDensity> make_batch(std::size_t lanes, int threads) const override {
    return std::make_unique<ProgramBatch>(p_, lanes, threads);
  }

 private:
  std::shared_ptr<const ad::Program> p_;
  int row_threads_;  // each chain's own threads for large GLM likelihoods
};

// Batches through an evaluator of another module (BrrExternalBatch: the CUDA device executor), single
// points (a starting point's check) through the Program on the CPU.
class ExternalBatch : public nuts::BatchLogDensity {
 public:
  explicit ExternalBatch(const BrrExternalBatch* ext) : ext_(ext) {}
  std::size_t dim() const override { return ext_->dim; }
  std::size_t lanes() const override { return ext_->lanes; }
  void logp_grad(const double* X, double* G, double* lp, nuts::LogpStatus* status) override {
    char err[512] = {0};
    const int rc = ext_->logp_grad(ext_->handle, X, G, lp, err, sizeof err);
    std::fill(status, status + ext_->lanes, rc == 0 ? nuts::LogpStatus::Ok : nuts::LogpStatus::Fatal);
    if (rc != 0) throw std::runtime_error(std::string("the device evaluation failed: ") + err);
  }

 private:
  const BrrExternalBatch* ext_;
};

class ExternalBatchFactory : public ProgramFactory {
 public:
  ExternalBatchFactory(std::shared_ptr<const ad::Program> p, const BrrExternalBatch* ext) : ProgramFactory(std::move(p), 1), ext_(ext) {}
  std::unique_ptr<nuts::BatchLogDensity> make_batch(std::size_t lanes, int) const override {
    if (lanes != ext_->lanes)
      throw std::invalid_argument("the device evaluator holds " + std::to_string(ext_->lanes) + " points, the run has " +
                                  std::to_string(lanes) + " chains");
    return std::make_unique<ExternalBatch>(ext_);
  }

 private:
  const BrrExternalBatch* ext_;
};

// f(x) -> (logp, grad); calls take the GIL, so chains using it run one at a time.
class CallableDensity : public nuts::LogDensity {
 public:
  CallableDensity(py::object f, std::size_t dim) : f_(std::move(f)), dim_(dim) {}
  ~CallableDensity() override {
    py::gil_scoped_acquire gil;
    f_ = py::object();
  }
  std::size_t dim() const override { return dim_; }
  nuts::LogpStatus logp_grad(const double* x, double* grad, double& logp) override {
    py::gil_scoped_acquire gil;
    try {
      py::array_t<double> xa(static_cast<py::ssize_t>(dim_), x);
      py::tuple r = f_(xa);
      logp = r[0].cast<double>();
      auto g = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(r[1]);
      if (!g || g.size() != static_cast<py::ssize_t>(dim_)) return nuts::LogpStatus::Fatal;
      std::copy(g.data(), g.data() + dim_, grad);
      return nuts::LogpStatus::Ok;
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_KeyboardInterrupt)) return nuts::LogpStatus::Fatal;
      return nuts::LogpStatus::Recoverable;
    }
  }

 private:
  py::object f_;
  std::size_t dim_;
};

class CallableFactory : public nuts::LogDensityFactory {
 public:
  CallableFactory(py::object f, std::size_t dim) : f_(std::move(f)), dim_(dim) {}
  ~CallableFactory() override {
    py::gil_scoped_acquire gil;
    f_ = py::object();
  }
  std::size_t dim() const override { return dim_; }
  std::unique_ptr<nuts::LogDensity> make() const override {
    py::gil_scoped_acquire gil;
    return std::make_unique<CallableDensity>(f_, dim_);
  }

 private:
  py::object f_;
  std::size_t dim_;
};

}  // namespace brr::bind
