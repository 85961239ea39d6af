// Error types and message builders shared by every C++ layer.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace brr {

// Invalid program or argument: a bug in the caller, reported as ValueError.
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  return s.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw ShapeError(cat(args...));
}

}  // namespace brr
