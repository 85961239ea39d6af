// A chain's state saved by name and read back, with every earlier layout migrated at load, as program_io
// does for programs. What it is saved into is the caller's: the bindings give a Python dict (checkpoints and
// Result.sampler_states hold it as JSON), a test a map. Layouts:
//   1: positional vectors ("da", "windows", "est_flags", ...) and no "version" key; the nutpie schedule's
//      and the low-rank metric's keys are absent in states saved before they existed
//   2: layout 1 with "version": 2 and a lock-step sampler's numbers in "ensemble", read by their count
//   3: every field by name ("dual_averaging.mu", "chees.adam.t", ...; state_codec.cpp lists them once)
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "infer/chain_state.hpp"

namespace brr::infer {

constexpr int kStateVersion = 3;

// Named fields in and out. A key with dots ("dual_averaging.mu") names a field inside a group. Reading a key
// that is missing, or whose value is of another kind, throws std::invalid_argument naming the key.
class StateFields {
 public:
  virtual ~StateFields() = default;
  virtual bool has(const std::string& key) const = 0;
  virtual double number(const std::string& key) const = 0;
  virtual long long integer(const std::string& key) const = 0;
  virtual bool flag(const std::string& key) const = 0;
  virtual std::vector<double> numbers(const std::string& key) const = 0;
  virtual std::vector<long long> integers(const std::string& key) const = 0;
  virtual std::vector<uint64_t> words(const std::string& key) const = 0;  // whole numbers in [0, 2^64)

  virtual void put(const std::string& key, double v) = 0;
  virtual void put(const std::string& key, long long v) = 0;
  virtual void put(const std::string& key, bool v) = 0;
  virtual void put(const std::string& key, const std::vector<double>& v) = 0;
  virtual void put(const std::string& key, const std::vector<uint64_t>& v) = 0;
};

// s into out, in the current layout (with "version").
void save_state(const ChainState& s, StateFields& out);

// A state saved in any layout, for a run of `sampler` (a registry name: it reads layout 2's "ensemble").
// Throws std::invalid_argument naming what is missing or malformed, or the version this release cannot read.
ChainState load_state(const StateFields& in, const std::string& sampler);

}  // namespace brr::infer
