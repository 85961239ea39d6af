// What an op spec is, and how the three executors run one.
//
// An op spec (one header per op under csrc/ops/<family>/, listed in ops/all.hpp) is a struct named as
// the op's enumerator in ir/ops.def, holding everything about the op that is not its code and signature:
//   static void check_shape(const ShapeCheck&)               its shape rule (after the signature check)
//   static bool on_lanes(const Op&, const Program&)          which input kinds the lane-interleaved
//                                                            executors (CPU batch, device) take
//   template <class X> static void forward(const Op&, X&)    values (and, for a density, the partials)
//   template <class X> static void backward(const Op&, X&)   adjoints of its inputs
// and, optionally, for an op whose rows add into shared adjoints (which the device's threads may not do
// at once):
//   static std::size_t row_groups(const Op&, const Program&, std::vector<int32_t>& key)
//                                                            the groups of rows (key[r] in [0, groups),
//                                                            groups returned; 0: none) the device lists
//                                                            once, for the view's group_sums
// Its row maths are BRR_HD functors over independent work items, so one definition compiles for the
// host and for CUDA. X is an executor's view (ad::HostView<Ctx> and ad::HostView<BatchCtx> in
// ad/spec_views.hpp, GridExecutor::SpecView in backend/grid_executor.hpp):
//   lanes()            B, the points evaluated at once (1 for the scalar executor)
//   v(s), out(s), a(s) slot s's values, its values to write, its adjoint (nullptr: not needed); element i
//                      of lane b of a lane-varying slot at [i * B + b], a constant slot's at [i]
//   n(s)               slot s's size per lane
//   varies(s)          whether slot s holds a value per lane (false: data, one copy read by every lane)
//   items(n, f)        f(first, count) over [0, n): on the host in blocks of up to kBlock items (a
//                      functor overlaps the latencies of the items of a block; items<Block> for wider
//                      blocks), on the device one item per thread (count = 1)
//   target()           the lanes' log densities (lane b's at [b])
//   chain_sum(n, f, out)   out[b] += the sum of f(i, b) over elements i < n: in element order on the CPU
//                      (one chain of adds per lane), by the device's fixed-chunk reduction there. f is
//                      called once per (i, b), so it may also write what item (i, b) owns.
//   chain_acc(n, f, init, out)  the same for items of several terms: f(i, b, acc) adds item (i, b)'s terms
//                      to acc itself, so on the CPU every term of every item joins the lane's one chain
//                      of adds, which starts at init (on the device each item's terms sum from 0, and
//                      init joins the reduction)
//   work(n, k)         work buffer k (0 or 1) of n doubles per lane (lane b's element i at [i * B + b]),
//                      for the op's forward or backward pass alone; n at most the op's largest slot, and
//                      declared by its shape rule (ShapeCheck::work)
//   sum_slot(s, out, add)  out[b] (+)= the sum of slot s's elements in lane b: four accumulators on the
//                      CPU (common/reduce.hpp), the device's fixed-chunk reduction there
//   kRowsInOrder       true on the CPU, where an item may add into what other items add into (the items
//                      run in order); false on the device, which instead offers
//   group_sums(op, t, k)   per group of op's row_groups(), the sum of t (rows x lanes) over its rows, by
//                      segmented sums (backend/segment_sums.hpp); k (0 or 1) picks one of two outputs
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/hd.hpp"
#include "common/view.hpp"
#include "ir/program.hpp"

namespace brr::ops {

using ir::Op;
using ir::OpCode;
using ir::Program;

// items per host call of a row functor: enough independent chains to hide an add's latency
constexpr std::size_t kBlock = 8;

// f(first, count) over [0, n) in blocks of up to Block items (a spec whose items are long serial chains
// asks for wider blocks, items<Block>, so that a block's chains fill the pipeline)
template <std::size_t Block = kBlock, class F>
void host_items(std::size_t n, const F& f) {
  for (std::size_t first = 0; first < n; first += Block) f(first, std::min(Block, n - first));
}

// The device's form: grid index t is item t.
template <class F>
struct OneItem {
  F f;
  BRR_HD void operator()(std::size_t t) const { f(t, 1); }
};

inline bool varies(const Op& op, const Program& p, std::size_t k) { return !p.slot(op.in[k]).constant; }

// whether spec S lists row groups for the device (row_groups above)
template <class S, class = void>
struct has_row_groups : std::false_type {};
template <class S>
struct has_row_groups<S, std::void_t<decltype(S::row_groups(std::declval<const Op&>(), std::declval<const Program&>(),
                                                            std::declval<std::vector<int32_t>&>()))>>
    : std::true_type {};

// An input as lane b reads it: element i at p[i * es + b * ls] (es = 0: one value broadcast over the
// elements; ls = 0: data shared by the lanes). The lane-interleaved kernels of the batch and device
// executors read their inputs through it too (their Arg).
struct LaneArg {
  const double* p = nullptr;
  std::size_t es = 0, ls = 0;
  BRR_HD double at(std::size_t i, std::size_t b) const { return p[i * es + b * ls]; }
};

// the view of an input with values p (per lane when `varies`, else data shared by the lanes), full-size
// (`full`) or one value broadcast, in an executor of B lanes
inline LaneArg lane_arg(const double* p, bool varies, bool full, std::size_t B) {
  if (varies) return {p, full ? B : std::size_t{0}, 1};
  return {p, full ? std::size_t{1} : std::size_t{0}, 0};
}

// lane b's view of an input (a broadcast input's stride is 0) and of an output or adjoint (empty for null)
BRR_HD inline In view(const LaneArg& a, std::size_t b) { return In{a.p + b * a.ls, a.es}; }
BRR_HD inline Out lane(double* p, std::size_t b, std::size_t B) { return p ? Out{p + b, B} : Out{}; }

template <class X>
LaneArg lane_arg(const X& x, int s, std::size_t n_out) {
  return lane_arg(x.v(s), x.varies(s), x.n(s) == n_out, x.lanes());
}

// f(k, i, b) for items k in [first, first + count) of an (element, lane) grid, k = i * B + b; one lane
// (the scalar executor) needs no division
template <class F>
BRR_HD void for_element_lanes(std::size_t first, std::size_t count, std::size_t B, const F& f) {
  for (std::size_t k = first; k < first + count; ++k) {
    if (B == 1) f(k, k, std::size_t{0});
    else f(k, k / B, k % B);
  }
}

}  // namespace brr::ops
