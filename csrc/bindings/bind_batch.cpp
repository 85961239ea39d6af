// A batch evaluator Python can keep between calls: its scratch and the way its first call picked (lane
// tiles or scalar lanes, threads) stay, so later calls run at once instead of timing every way again.
#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ad/batch.hpp"
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

}  // namespace

void bind_batch(py::module_& m) {
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
