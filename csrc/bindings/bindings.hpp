// Registration functions of the one pybind11 module, one per file.
#pragma once
#include <pybind11/pybind11.h>

namespace brr::bind {
void bind_program(pybind11::module_& m);
void bind_sampler(pybind11::module_& m);
void bind_evaluators(pybind11::module_& m);
void bind_transition(pybind11::module_& m);
}  // namespace brr::bind
