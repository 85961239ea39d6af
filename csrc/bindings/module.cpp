// brr_bayes._core: the only PYBIND11_MODULE of the C++ core.
#include <pybind11/pybind11.h>

#include <thread>

#include "bindings/bindings.hpp"
#include "common/vec_math.hpp"

#ifndef BRR_VERSION_INFO
#define BRR_VERSION_INFO "dev"
#endif
#ifndef BRR_CXX_FLAGS
#define BRR_CXX_FLAGS ""
#endif

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = R"pbdoc(brr_bayes C++ core: compiled log-density programs and the NUTS sampler.)pbdoc";
  m.attr("__version__") = BRR_VERSION_INFO;
  py::dict info;
  info["compiler"] = __VERSION__;
  info["cxx_flags"] = BRR_CXX_FLAGS;
  info["cxx_standard"] = static_cast<long>(__cplusplus);
  // exp/log/log1p over arrays: "libmvec-avx2" (glibc's vector kernels) or "scalar" (libm)
  info["vector_math"] = brr::vec_math_simd() ? "libmvec-avx2" : "scalar";
  info["hardware_threads"] = static_cast<long>(std::thread::hardware_concurrency());
  m.attr("build_info") = info;
  brr::bind::bind_program(m);
  brr::bind::bind_sampler(m);
  brr::bind::bind_evaluators(m);
  brr::bind::bind_transition(m);
}
