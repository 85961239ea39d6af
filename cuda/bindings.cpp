// brr_bayes._cuda: device kernels exposed to Python; every entry validates shapes and index ranges.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "ir/program.hpp"
#include "bindings/device_calls.hpp"
#include "common/external_batch.hpp"
#include "launch.hpp"

namespace py = pybind11;
using brr::cuda::ProgramDevice;

namespace {

// The device copy of a brr_bayes._core.Program, holding the Python object so the Program outlives it.
struct DeviceProgram {
  py::object program;
  std::unique_ptr<ProgramDevice> dev;
  bool trajectories_on_device = true;
  std::unique_ptr<BrrExternalBatch> ext;  // made by batch_capsule()
};
}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "brr_bayes CUDA: the device executor (backend/grid_executor.hpp on CUDA) and device queries.";
  m.def("device_count", &brr::cuda::device_count, "Number of visible CUDA devices (0 without a driver).");
  m.def("device_name", [](int d) {
    if (d < 0 || d >= brr::cuda::device_count()) throw py::index_error("no CUDA device " + std::to_string(d));
    return brr::cuda::device_name(d);
  });
  py::class_<DeviceProgram>(m, "ProgramDevice",
                            "A compiled model's whole op program on the GPU: logp and gradients at B points per call.")
      .def(py::init([](py::object program, long lanes, const DeviceProgram* share) {
             if (brr::cuda::device_count() == 0) throw std::runtime_error("no CUDA device is visible");
             if (lanes < 1) throw py::value_error("lanes must be >= 1, got " + std::to_string(lanes));
             if (!py::hasattr(program, "_address"))
               throw py::type_error("program must be a brr_bayes._core.Program (model.compiled.program)");
             const auto addr = program.attr("_address")().cast<std::uintptr_t>();
             const auto* prog = reinterpret_cast<const brr::ir::Program*>(addr);
             if (share && share->dev->program() != prog)
               throw py::value_error("share: that ProgramDevice holds another program's data; pass one built on "
                                     "this program, or share=None");
             // the Python object owns the Program; DeviceProgram keeps that object alive
             std::shared_ptr<const brr::ir::Program> p(prog, [](const brr::ir::Program*) {});
             try {
               auto dev = share ? std::make_unique<ProgramDevice>(*share->dev, static_cast<std::size_t>(lanes))
                                : std::make_unique<ProgramDevice>(p, static_cast<std::size_t>(lanes));
               return DeviceProgram{program, std::move(dev), true, nullptr};
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());
             }
           }),
           py::arg("program"), py::arg("lanes"), py::arg("share") = nullptr,
           "share: another ProgramDevice of this program whose device data (constants, index arrays, row "
           "lists) this one reads instead of a copy of its own.")
      .def_property_readonly("lanes", [](const DeviceProgram& d) { return d.dev->lanes(); })
      .def_property_readonly("data_bytes", [](const DeviceProgram& d) { return d.dev->data_bytes(); },
                             "Bytes of the program's data on the GPU (shared by the devices built with share=).")
      .def_property_readonly("workspace_bytes", [](const DeviceProgram& d) { return d.dev->workspace_bytes(); },
                             "Bytes this device holds for its own lanes (values, adjoints, scratch).")
      .def("shares_data_with", [](const DeviceProgram& d, const DeviceProgram& o) { return d.dev->shares_data_with(*o.dev); },
           "Whether this device and o read one copy of the program's data.")
      .def("batch_capsule", [](DeviceProgram& d) {
        if (!d.ext) d.ext = std::make_unique<BrrExternalBatch>();   // one struct, rewritten in place: a run holds its address
        *d.ext = brr::external_batch_of(d.dev.get(), d.dev->lanes(), d.dev->dim(), d.trajectories_on_device);
        return py::capsule(static_cast<void*>(d.ext.get()), brr::kExternalBatchCapsule);
      }, "The evaluator for a sampling run (start_sampling(batch=)); valid while this object lives.")
      .def_readwrite("trajectories_on_device", &DeviceProgram::trajectories_on_device,
                     "Whether a lock-step run steps its leapfrog trajectories on the GPU (True) or on its host loop, "
                     "one evaluation per step (False). Read when a run starts.")
      .def("leapfrog", [](DeviceProgram& d, py::handle q, py::handle p, py::handle g, py::handle lp, py::handle minv,
                          double eps, long L) {
        return brr::bind::device_leapfrog(*d.dev, q, p, g, lp, minv, eps, L);
      }, py::arg("q"), py::arg("p"), py::arg("g"), py::arg("lp"), py::arg("minv"), py::arg("eps"), py::arg("steps"),
      "L = steps leapfrog steps of every lane on the GPU from positions q, momenta p, gradients g (lanes x dim) "
      "and log densities lp (lanes) with inverse metric minv (dim): returns (q, p, g, lp, ok, evals) at the ends.")
      .def_property_readonly("trajectories", [](const DeviceProgram& d) { return d.dev->trajectories(); },
                             "How many trajectories this device has stepped (each a whole leapfrog call).")
      .def("logp_and_grad", [](DeviceProgram& d, py::handle points) {
        return brr::bind::device_logp_and_grad(*d.dev, points);
      }, py::arg("points"), "(logp (B,), gradients (B, dim)) at each row of points, computed on the GPU.");
}
