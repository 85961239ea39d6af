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
using brr::cuda::GlmBernoulliDevice;
using brr::cuda::ProgramDevice;

namespace {
using DArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// The device copy of a brr_bayes._core.Program, holding the Python object so the Program outlives it.
struct DeviceProgram {
  py::object program;
  std::unique_ptr<ProgramDevice> dev;
  bool trajectories_on_device = true;
  std::unique_ptr<BrrExternalBatch> ext;  // made by batch_capsule()
};
}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "brr_bayes CUDA kernels (fused GLM likelihoods).";
  m.def("device_count", &brr::cuda::device_count, "Number of visible CUDA devices (0 without a driver).");
  m.def("device_name", [](int d) {
    if (d < 0 || d >= brr::cuda::device_count()) throw py::index_error("no CUDA device " + std::to_string(d));
    return brr::cuda::device_name(d);
  });
  py::class_<GlmBernoulliDevice>(m, "GlmBernoulli",
                                 "Fused Bernoulli-logit GLM with group effects, evaluated on the GPU.")
      .def(py::init([](DArray y, DArray offset, std::vector<IArray> idx, std::vector<int64_t> sizes) {
             if (brr::cuda::device_count() == 0) throw std::runtime_error("no CUDA device is visible");
             const auto n = y.size();
             if (offset.size() != n) throw py::value_error("offset must have the same length as y");
             if (idx.size() != sizes.size()) throw py::value_error("idx and sizes must have the same length");
             std::vector<double> yv(y.data(), y.data() + n), ov(offset.data(), offset.data() + n);
             for (double v : yv)
               if (v != 0.0 && v != 1.0) throw py::value_error("y must hold 0/1 outcomes");
             std::vector<std::vector<int32_t>> iv;
             std::vector<int32_t> sv;
             for (std::size_t k = 0; k < idx.size(); ++k) {
               if (idx[k].size() != n) throw py::value_error("idx[" + std::to_string(k) + "] must have length n");
               if (sizes[k] < 1 || sizes[k] > (1LL << 30)) throw py::value_error("sizes must be positive");
               std::vector<int32_t> a(static_cast<std::size_t>(n));
               for (py::ssize_t i = 0; i < n; ++i) {
                 const int64_t g = idx[k].data()[i];
                 if (g < 0 || g >= sizes[k])
                   throw py::value_error("idx[" + std::to_string(k) + "] has id " + std::to_string(g) +
                                         " outside [0, " + std::to_string(sizes[k]) + ")");
                 a[static_cast<std::size_t>(i)] = static_cast<int32_t>(g);
               }
               iv.push_back(std::move(a));
               sv.push_back(static_cast<int32_t>(sizes[k]));
             }
             return std::make_unique<GlmBernoulliDevice>(yv, ov, iv, sv);
           }),
           py::arg("y"), py::arg("offset"), py::arg("idx"), py::arg("sizes"))
      .def_property_readonly("num_params", &GlmBernoulliDevice::num_params)
      .def("logp_and_grad", [](GlmBernoulliDevice& g, DArray params) {
        if (params.ndim() != 1 || static_cast<std::size_t>(params.size()) != g.num_params())
          throw py::value_error("params must be a vector of length " + std::to_string(g.num_params()));
        DArray grad(static_cast<py::ssize_t>(g.num_params()));
        double lp;
        {
          py::gil_scoped_release release;
          lp = g.logp_grad(params.data(), grad.mutable_data());
        }
        return py::make_tuple(lp, grad);
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
