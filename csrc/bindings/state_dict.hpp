// A Python dict as the state codec's named fields (infer/state_codec.hpp): a dotted key is a field of a
// nested dict ("dual_averaging.mu" -> d["dual_averaging"]["mu"]), as checkpoints hold it in JSON.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "infer/state_codec.hpp"

namespace brr::bind {

namespace py = pybind11;

class DictFields final : public infer::StateFields {
 public:
  explicit DictFields(py::dict d) : root_(std::move(d)) {}

  bool has(const std::string& key) const override { return find(key).has_value(); }
  double number(const std::string& key) const override { return get<double>(key, "a number"); }
  long long integer(const std::string& key) const override { return get<long long>(key, "a whole number"); }
  bool flag(const std::string& key) const override { return get<bool>(key, "True or False"); }
  std::vector<double> numbers(const std::string& key) const override {
    return get<std::vector<double>>(key, "a list of numbers");
  }
  std::vector<long long> integers(const std::string& key) const override {
    return get<std::vector<long long>>(key, "a list of whole numbers");
  }
  std::vector<uint64_t> words(const std::string& key) const override {
    return get<std::vector<uint64_t>>(key, "a list of whole numbers in [0, 2^64)");
  }

  void put(const std::string& key, double v) override { set(key, py::float_(v)); }
  void put(const std::string& key, long long v) override { set(key, py::int_(v)); }
  void put(const std::string& key, bool v) override { set(key, py::bool_(v)); }
  void put(const std::string& key, const std::vector<double>& v) override { set(key, py::cast(v)); }
  void put(const std::string& key, const std::vector<uint64_t>& v) override { set(key, py::cast(v)); }

 private:
  std::optional<py::object> find(const std::string& key) const {
    py::object at = root_;
    for (std::size_t from = 0;;) {
      const std::size_t dot = key.find('.', from);
      const std::string part = key.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
      if (!py::isinstance<py::dict>(at)) return std::nullopt;
      const py::dict d = at.cast<py::dict>();
      if (!d.contains(part)) return std::nullopt;
      at = d[py::str(part)];
      if (dot == std::string::npos) return at;
      from = dot + 1;
    }
  }

  template <class T>
  T get(const std::string& key, const char* kind) const {
    const std::optional<py::object> v = find(key);
    if (!v) throw std::invalid_argument("sampler state has no '" + key + "'; pass a state the sampler returned");
    try {
      return v->cast<T>();
    } catch (const py::cast_error&) {
      throw std::invalid_argument("sampler state's '" + key + "' is not " + kind +
                                  "; pass a state the sampler returned");
    }
  }

  void set(const std::string& key, py::object v) {
    py::dict at = root_;
    std::size_t from = 0;
    for (std::size_t dot; (dot = key.find('.', from)) != std::string::npos; from = dot + 1) {
      const py::str part(key.substr(from, dot - from));
      if (!at.contains(part)) at[part] = py::dict();
      at = at[part].cast<py::dict>();
    }
    at[py::str(key.substr(from))] = std::move(v);
  }

  py::dict root_;
};

// A chain's state as a Python dict in the current layout, and a dict of any layout back (for a run of
// `sampler`); a malformed one raises ValueError naming the field.
inline py::dict state_to_dict(const infer::ChainState& s) {
  py::dict d;
  DictFields f(d);
  infer::save_state(s, f);
  return d;
}

inline infer::ChainState state_from_dict(const py::dict& d, const std::string& sampler) {
  try {
    return infer::load_state(DictFields(d), sampler);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

}  // namespace brr::bind
