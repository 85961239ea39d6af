// The CPU executors as an op spec's view of its executor (ops/spec.hpp): the scalar executor's Ctx
// with one lane, the batch executor's BatchCtx with its B lanes interleaved.
#pragma once
#include <cstddef>

#include "ops/spec.hpp"

namespace brr::ad {

template <class C>
struct HostView {
  C& c;
  std::size_t B;
  std::size_t lanes() const { return B; }
  const double* v(int s) const { return c.v(s); }
  double* out(int s) const { return c.out(s); }
  double* a(int s) const { return c.a(s); }
  std::size_t n(int s) const { return c.n(s); }
  bool varies(int s) const { return !c.prog.slot(s).constant; }
  template <class F>
  void items(std::size_t n, const F& f) const { ops::host_items(n, f); }
};

}  // namespace brr::ad
