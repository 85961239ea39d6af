// Trajectory states handed out by index with reference counts, so that a subtree's boundaries, its
// candidate draw and the integrator's next starting point are references to one stored leapfrog result
// instead of copies of it (nuts-rs keeps its states in a pool for the same reason).
#pragma once
#include <cstddef>
#include <deque>
#include <vector>

namespace brr::infer {

// One leapfrog result: position, momentum, gradient, velocity v = M^{-1} p, log density, Hamiltonian.
struct State {
  std::vector<double> q, p, g, v;
  double logp = 0.0;
  double energy = 0.0;
};

class StatePool {
 public:
  explicit StatePool(std::size_t n) : n_(n) {}
  // Forgets every reference; the stored states are kept for reuse.
  void reset() {
    free_.clear();
    for (std::size_t i = states_.size(); i-- > 0;) {
      refs_[i] = 0;
      free_.push_back(static_cast<int>(i));
    }
  }
  // A free state (the most recently released first, as it is likeliest still cached), one reference held.
  int acquire() {
    if (free_.empty()) {
      State& s = states_.emplace_back();  // deque: references to the others stay valid
      for (auto* v : {&s.q, &s.p, &s.g, &s.v}) v->assign(n_, 0.0);
      refs_.push_back(0);
      free_.push_back(static_cast<int>(states_.size() - 1));
    }
    const int i = free_.back();
    free_.pop_back();
    refs_[static_cast<std::size_t>(i)] = 1;
    return i;
  }
  void retain(int i) { ++refs_[static_cast<std::size_t>(i)]; }
  void release(int i) {
    if (--refs_[static_cast<std::size_t>(i)] == 0) free_.push_back(i);
  }
  State& operator[](int i) { return states_[static_cast<std::size_t>(i)]; }
  std::size_t size() const { return states_.size(); }

 private:
  std::size_t n_;
  std::deque<State> states_;
  std::vector<int> refs_, free_;
};

}  // namespace brr::infer
