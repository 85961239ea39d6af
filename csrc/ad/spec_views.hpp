// The CPU executors as an op spec's view of its executor (ops/spec.hpp): the scalar executor's Ctx
// with one lane, the batch executor's BatchCtx with its B lanes interleaved.
#pragma once
#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "ad/batch.hpp"
#include "ad/executor.hpp"
#include "common/reduce.hpp"
#include "ops/spec.hpp"

namespace brr::ad {

template <class C>
struct HostView {
  static constexpr std::size_t kReductions = 8;  // doubles per lane that chain_sum and sum_slot use
  static constexpr bool kRowsInOrder = true;     // items run in order: they may add into shared adjoints
  C& c;
  std::size_t B;
  std::size_t lanes() const { return B; }
  const double* v(int s) const { return c.v(s); }
  double* out(int s) const { return c.out(s); }
  double* a(int s) const { return c.a(s); }
  std::size_t n(int s) const { return c.n(s); }
  bool varies(int s) const { return !c.prog.slot(s).constant; }
  template <std::size_t Block = ops::kBlock, class F>
  void items(std::size_t n, const F& f) const { ops::host_items<Block>(n, f); }
  double* work(std::size_t n, int k) const {
    if constexpr (std::is_same_v<C, Ctx>) {  // sized by the shape rules (Program::scratch_size)
      return c.ws.scratch.data() + static_cast<std::size_t>(k) * n;
    } else {  // past what chain_sum and sum_slot take from the front of the lane scratch
      return c.scratch((kReductions + 2 * n) * B) + (kReductions + static_cast<std::size_t>(k) * n) * B;
    }
  }
  double* target() const {
    if constexpr (std::is_same_v<C, Ctx>) return &c.target;
    else return c.ws.target.data();
  }
  template <class F>
  void chain_sum(std::size_t n, const F& f, double* out) const {
    if constexpr (std::is_same_v<C, Ctx>) {  // one lane: one chain of adds
      double lp = 0.0;
      for (std::size_t i = 0; i < n; ++i) lp += f(i, 0);
      *out += lp;
    } else {  // a chain per lane, the lanes side by side
      double* lp = c.scratch(B);
      std::fill(lp, lp + B, 0.0);
      for (std::size_t i = 0; i < n; ++i)
        BRR_IVDEP for (std::size_t b = 0; b < B; ++b) lp[b] += f(i, b);
      BRR_IVDEP for (std::size_t b = 0; b < B; ++b) out[b] += lp[b];
    }
  }
  template <class F>
  void chain_acc(std::size_t n, const F& f, double init, double* out) const {
    if constexpr (std::is_same_v<C, Ctx>) {
      double lp = init;
      for (std::size_t i = 0; i < n; ++i) f(i, 0, lp);
      *out += lp;
    } else {
      double* lp = c.scratch(B);
      std::fill(lp, lp + B, init);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t b = 0; b < B; ++b) f(i, b, lp[b]);
      BRR_IVDEP for (std::size_t b = 0; b < B; ++b) out[b] += lp[b];
    }
  }
  void sum_slot(int s, double* out, bool add) const {
    const double* a = c.v(s);
    const std::size_t n = c.n(s);
    if constexpr (std::is_same_v<C, Ctx>) {
      const double v = lane_sum(n, [a](std::size_t i) { return a[i]; });
      *out = add ? *out + v : v;
    } else {
      double* tmp = c.scratch(5 * B);
      const std::size_t lanes = B;
      lane_sums(n, lanes, tmp, [a, lanes](std::size_t i, std::size_t b) { return a[i * lanes + b]; }, tmp + 4 * B);
      BRR_IVDEP for (std::size_t b = 0; b < B; ++b) out[b] = add ? out[b] + tmp[4 * B + b] : tmp[4 * B + b];
    }
  }
};

}  // namespace brr::ad
