// numpy arrays <-> spans, with dtype, dimension and size checks that name the argument.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "common/span.hpp"

namespace brr::bind {

namespace py = pybind11;
using DArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

inline DArray as_1d(const py::handle& obj, const char* name, long expected = -1) {
  DArray a = DArray::ensure(obj);
  if (!a) throw py::type_error(std::string(name) + " must be an array of float64 values");
  if (a.ndim() != 1) throw py::value_error(std::string(name) + " must be 1-dimensional, got " +
                                           std::to_string(a.ndim()) + " dimensions");
  if (expected >= 0 && a.shape(0) != expected)
    throw py::value_error(std::string(name) + " has length " + std::to_string(a.shape(0)) + ", expected " +
                          std::to_string(expected));
  return a;
}

inline std::vector<double> to_vector(const DArray& a) { return std::vector<double>(a.data(), a.data() + a.size()); }

}  // namespace brr::bind
