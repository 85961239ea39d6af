// Evaluators Python keeps between calls (a model holds one of each): a point evaluator's workspace
// stays allocated (a new one per call allocated and zeroed every slot's values and adjoints: a third of
// W3's evaluation), and so do a batch evaluator's scratch and the way its first call picked (lane tiles
// or scalar lanes, threads), so later calls run at once instead of timing every way again.
#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ad/batch.hpp"
#include "ad/executor.hpp"
#include "bindings/bindings.hpp"
#include "bindings/numpy_span.hpp"
#include "ir/program.hpp"

namespace brr::bind {

namespace {

// One evaluator's scratch serves one call at a time: concurrent Python threads take turns.
struct HeldBatch {
  HeldBatch(std::shared_ptr<const ir::Program> p, std::size_t lanes, int threads) : ev(std::move(p), lanes, threads) {}
  ad::BatchEvaluator ev;
  std::mutex busy;
};

long picked_tile(const ad::BatchEvaluator& ev) {
  if (ev.tile() == ad::BatchEvaluator::kScalar) return -1;
  return static_cast<long>(ev.tile());  // 0 until the first call has picked
}

// One point at a time over a kept workspace; a call that finds it busy (another Python thread's call
// is running) evaluates on a workspace of its own, as every call did before.
struct HeldPoint {
  HeldPoint(std::shared_ptr<const ir::Program> p, int row_threads)
      : program(std::move(p)), threads(row_threads), ws(ad::make_workspace(*program, row_threads)) {}
  std::shared_ptr<const ir::Program> program;
  int threads;
  ad::Workspace ws;
  std::mutex busy;

  double eval(const double* x, double* grad) {
    const std::size_t d = program->dim();
    std::unique_lock<std::mutex> hold(busy, std::try_to_lock);
    if (hold.owns_lock()) return ad::logp_grad(*program, ws, ConstSpan{x, d}, Span{grad, grad ? d : 0});
    ad::Workspace own = ad::make_workspace(*program, threads);
    return ad::logp_grad(*program, own, ConstSpan{x, d}, Span{grad, grad ? d : 0});
  }
};

}  // namespace

void bind_evaluators(py::module_& m) {
  py::class_<HeldPoint, std::shared_ptr<HeldPoint>>(m, "PointEvaluator",
      "logp and its gradient at one point of a Program per call, over a workspace kept between calls.")
      .def(py::init([](std::shared_ptr<ir::Program> p, long row_threads) {
             if (!p) throw py::value_error("PointEvaluator: program must not be None");
             if (row_threads < 1 || row_threads > 1024)
               throw py::value_error("PointEvaluator: row_threads must be between 1 and 1024, got " +
                                     std::to_string(row_threads));
             return std::make_shared<HeldPoint>(std::move(p), static_cast<int>(row_threads));
           }),
           py::arg("program"), py::arg("row_threads") = 1)
      .def_property_readonly("row_threads", [](const HeldPoint& h) { return h.threads; })
      .def("logp", [](HeldPoint& h, py::handle x) {
        DArray a = as_1d(x, "x", static_cast<long>(h.program->dim()));
        py::gil_scoped_release release;
        return h.eval(a.data(), nullptr);
      }, py::arg("x"), "Log density at the unconstrained point x.")
      .def("logp_and_grad", [](HeldPoint& h, py::handle x) {
        DArray a = as_1d(x, "x", static_cast<long>(h.program->dim()));
        DArray g(static_cast<py::ssize_t>(h.program->dim()));
        double* gp = g.mutable_data();
        double lp;
        {
          py::gil_scoped_release release;
          lp = h.eval(a.data(), gp);
        }
        return py::make_tuple(lp, g);
      }, py::arg("x"), "(log density, gradient) at the unconstrained point x.");

  py::class_<HeldBatch, std::shared_ptr<HeldBatch>>(m, "BatchEvaluator",
      "logp and gradients of `lanes` points of one Program per call, through the batch executor; the way "
      "the first call picks by timing is kept for the later calls.")
      .def(py::init([](std::shared_ptr<ir::Program> p, long lanes, long threads) {
             if (!p) throw py::value_error("BatchEvaluator: program must not be None");
             if (lanes < 1) throw py::value_error("BatchEvaluator: lanes must be >= 1, got " + std::to_string(lanes));
             if (threads < 1 || threads > 1024)
               throw py::value_error("BatchEvaluator: threads must be between 1 and 1024, got " + std::to_string(threads));
             return std::make_shared<HeldBatch>(std::move(p), static_cast<std::size_t>(lanes), static_cast<int>(threads));
           }),
           py::arg("program"), py::arg("lanes"), py::arg("threads") = 1)
      .def_property_readonly("lanes", [](const HeldBatch& h) { return static_cast<long>(h.ev.lanes()); })
      .def_property_readonly("dim", [](const HeldBatch& h) { return static_cast<long>(h.ev.dim()); })
      .def_property_readonly("tile", [](const HeldBatch& h) { return picked_tile(h.ev); },
                             "lanes per lane-kernel group; -1: one scalar evaluation per lane; 0: not yet picked")
      .def_property_readonly("threads", [](const HeldBatch& h) { return h.ev.workers(); })
      .def("logp_and_grad", [](HeldBatch& h, py::handle xs) {
        DArray X = DArray::ensure(xs);
        const auto lanes = static_cast<py::ssize_t>(h.ev.lanes()), dim = static_cast<py::ssize_t>(h.ev.dim());
        if (!X || X.ndim() != 2 || X.shape(0) != lanes || X.shape(1) != dim)
          throw py::value_error("BatchEvaluator.logp_and_grad: points must be a float array of shape (" +
                                std::to_string(lanes) + ", " + std::to_string(dim) + ")");
        DArray lp(lanes);
        DArray G(std::vector<py::ssize_t>{lanes, dim});
        double* lpp = lp.mutable_data();
        double* gp = G.mutable_data();
        {
          py::gil_scoped_release release;
          std::lock_guard<std::mutex> hold(h.busy);
          h.ev.logp_grad(X.data(), gp, lpp);
        }
        return py::make_tuple(lp, G);
      }, py::arg("points"), "(logp (lanes,), gradients (lanes, dim)) at each row of points (lanes, dim).");
}

}  // namespace brr::bind
