// A device evaluator's calls from Python, written once for the host device (HostGridDevice) and the
// CUDA module's ProgramDevice: any E with lanes(), dim(), logp_grad(X, G, lp) and leapfrog(...).
// Arguments are checked and copied: points, positions, momenta and gradients lanes x dim, log densities
// per lane, a positive inverse metric per coordinate, a positive step size.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace brr::bind {

namespace py = pybind11;

struct LeapfrogArgs {
  using D = py::array_t<double, py::array::c_style | py::array::forcecast>;
  D q, p, g, lp, minv;
  py::array_t<unsigned char> ok;
  py::array_t<long long> evals;

  static LeapfrogArgs check(std::size_t lanes, std::size_t dim, py::handle q, py::handle p, py::handle g, py::handle lp,
                            py::handle minv, double eps, long steps) {
    LeapfrogArgs a;
    const auto B = static_cast<py::ssize_t>(lanes), d = static_cast<py::ssize_t>(dim);
    a.q = copy(q, "q", {B, d});
    a.p = copy(p, "p", {B, d});
    a.g = copy(g, "g", {B, d});
    a.lp = copy(lp, "lp", {B});
    a.minv = copy(minv, "minv", {d});
    for (py::ssize_t i = 0; i < d; ++i)
      if (!(a.minv.data()[i] > 0) || !std::isfinite(a.minv.data()[i]))
        throw py::value_error("minv[" + std::to_string(i) + "] = " + std::to_string(a.minv.data()[i]) +
                              ": the inverse metric must be positive and finite");
    if (!(eps > 0) || !std::isfinite(eps))
      throw py::value_error("eps = " + std::to_string(eps) + ": the step size must be positive and finite");
    if (steps < 0 || steps > 1'000'000)
      throw py::value_error("steps = " + std::to_string(steps) + ": must be from 0 to 1,000,000");
    a.ok = py::array_t<unsigned char>(B);
    a.evals = py::array_t<long long>(B);
    return a;
  }

  // (q, p, g, lp, ok as bool, evals)
  py::tuple result() const { return py::make_tuple(q, p, g, lp, ok.attr("astype")("bool"), evals); }

 private:
  // a fresh C-ordered float64 copy of `obj` of the given shape: the call writes the ends into it
  static D copy(py::handle obj, const char* name, std::vector<py::ssize_t> shape) {
    D in = D::ensure(obj);
    if (!in) throw py::type_error(std::string(name) + " must be an array of float64 values");
    bool same = in.ndim() == static_cast<py::ssize_t>(shape.size());
    for (std::size_t k = 0; same && k < shape.size(); ++k) same = in.shape(static_cast<py::ssize_t>(k)) == shape[k];
    if (!same) {
      std::string want;
      for (auto s : shape) want += (want.empty() ? "" : ", ") + std::to_string(s);
      throw py::value_error(std::string(name) + " must have shape (" + want + ")");
    }
    D out(shape);
    std::copy(in.data(), in.data() + in.size(), out.mutable_data());
    return out;
  }
};

// (logp (lanes,), gradients (lanes, dim)) at each row of points
template <class E>
py::tuple device_logp_and_grad(E& e, py::handle points) {
  const auto B = static_cast<py::ssize_t>(e.lanes()), dim = static_cast<py::ssize_t>(e.dim());
  LeapfrogArgs::D X = LeapfrogArgs::D::ensure(points);
  if (!X || X.ndim() != 2 || X.shape(0) != B || X.shape(1) != dim)
    throw py::value_error("points must have shape (" + std::to_string(B) + ", " + std::to_string(dim) +
                          "): a float array, one row per lane");
  LeapfrogArgs::D lp(B);
  LeapfrogArgs::D G(std::vector<py::ssize_t>{B, dim});
  {
    py::gil_scoped_release release;
    e.logp_grad(X.data(), G.mutable_data(), lp.mutable_data());
  }
  return py::make_tuple(lp, G);
}

// `steps` leapfrog steps of every lane (GridExecutor::leapfrog): (q, p, g, lp, ok, evals) at the ends
template <class E>
py::tuple device_leapfrog(E& e, py::handle q, py::handle p, py::handle g, py::handle lp, py::handle minv, double eps,
                          long steps) {
  LeapfrogArgs t = LeapfrogArgs::check(e.lanes(), e.dim(), q, p, g, lp, minv, eps, steps);
  {
    py::gil_scoped_release release;
    e.leapfrog(t.q.mutable_data(), t.p.mutable_data(), t.g.mutable_data(), t.lp.mutable_data(), t.ok.mutable_data(),
               t.evals.mutable_data(), t.minv.data(), eps, static_cast<int>(steps));
  }
  return t.result();
}

}  // namespace brr::bind
