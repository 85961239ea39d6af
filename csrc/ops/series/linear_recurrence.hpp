// LinearRecurrence: a first-order linear recurrence over time, vectorised over n series,
//   x[t] = a[t] * x[t-1] + b[t],  t = 0..T-1,  x[-1] = x0,
// with a, b (T x n) and x0 (n), any of them data. ARMA error recursions, GARCH variances and local-level
// filters are this recurrence; its adjoint is the same recurrence run backwards:
//   lambda[t] = xbar[t] + a[t+1] lambda[t+1].
// Items are (series j, lane l), k = j * B + l; a block's items step through time side by side, kSeries of
// them on the host: each series is a serial chain of multiply-adds, and a wide block keeps the pipeline
// full as the one loop over all series did.
#pragma once
#include <cstddef>

#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

constexpr std::size_t kSeries = 32;  // series per host block

// Element t of series j in lane l of an input is v.at(t * n + j, l). For an input that is lane-varying
// (or any input when there is one lane) that is v.p[t * n * v.es + k] for item k = j * B + l, so a block's
// items read consecutive values and its time steps vectorise (Contig); otherwise each item finds its own.
BRR_HD inline bool contiguous(const LaneArg& v, std::size_t B) { return (v.es == B && v.ls == 1) || (B == 1 && v.es == 1); }

template <bool Contig>
BRR_HD inline double series_at(const LaneArg& v, std::size_t t, std::size_t k, std::size_t n, std::size_t B) {
  return Contig ? v.p[t * n * v.es + k] : v.at(t * n + k / B, k % B);
}

// f.block<N>(first) over [first, first + count) with N known at compile time, so a block's loops
// unroll: a full host block at once, else pieces of 8 and one of the remaining 1 to 7 (a few series,
// a block's remainder, the device's one item per thread)
template <class F>
BRR_HD void by_count(const F& f, std::size_t first, std::size_t count) {
  if (count == kSeries) return f.template block<kSeries>(first);
  for (; count >= 8; first += 8, count -= 8) f.template block<8>(first);
  switch (count) {
    case 1: return f.template block<1>(first);
    case 2: return f.template block<2>(first);
    case 3: return f.template block<3>(first);
    case 4: return f.template block<4>(first);
    case 5: return f.template block<5>(first);
    case 6: return f.template block<6>(first);
    case 7: return f.template block<7>(first);
    default: return;
  }
}

template <bool Contig>
struct RecurrenceSeries {
  LaneArg a, b, x0;
  double* x;
  std::size_t T, n, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    by_count(*this, first, count);
  }
  template <std::size_t N>  // items [first, first + N)
  BRR_HD void block(std::size_t first) const {
    constexpr std::size_t count = N;
    double prev[N];
    for (std::size_t q = 0; q < count; ++q) prev[q] = x0.at((first + q) / B, (first + q) % B);
    for (std::size_t t = 0; t < T; ++t) {
      double* xt = x + t * n * B + first;
      for (std::size_t q = 0; q < count; ++q) {
        const std::size_t k = first + q;
        prev[q] = series_at<Contig>(a, t, k, n, B) * prev[q] + series_at<Contig>(b, t, k, n, B);
        xt[q] = prev[q];
      }
    }
  }
};

template <bool Contig>
struct RecurrenceSeriesBack {
  LaneArg a, x0;
  const double *x, *xa;
  double *aa, *ba, *x0a;  // each nullptr where that input needs no gradient
  std::size_t T, n, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    by_count(*this, first, count);
  }
  template <std::size_t N>  // items [first, first + N)
  BRR_HD void block(std::size_t first) const {
    constexpr std::size_t count = N;
    double lam[N] = {}, prev[N];
    for (std::size_t t = T; t-- > 0;) {
      const std::size_t at = t * n * B + first;  // item first's element t in a lane-varying slot
      for (std::size_t q = 0; q < count; ++q)  // x[t - 1], or x0 at the first step
        prev[q] = t ? x[at + q - n * B] : x0.at((first + q) / B, (first + q) % B);
      double g[N];
      for (std::size_t q = 0; q < count; ++q) {
        g[q] = xa[at + q] + lam[q];  // d target / d x[t], all paths through later steps
        lam[q] = series_at<Contig>(a, t, first + q, n, B) * g[q];  // passed to x[t-1]
      }
      if (aa)
        for (std::size_t q = 0; q < count; ++q) aa[at + q] += g[q] * prev[q];
      if (ba)
        for (std::size_t q = 0; q < count; ++q) ba[at + q] += g[q];
    }
    if (x0a)
      for (std::size_t q = 0; q < count; ++q) x0a[first + q] += lam[q];
  }
};

struct LinearRecurrence {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(2);
    const std::size_t T = static_cast<std::size_t>(c.op.ip[0]), n = static_cast<std::size_t>(c.op.ip[1]);
    c.eq(c.in(0), T * n, "a");
    c.eq(c.in(1), T * n, "b");
    c.eq(c.in(2), n, "x0");
    c.eq(c.out(), T * n, "output");
  }
  static bool on_lanes(const Op&, const Program&) { return true; }  // data inputs are read in place
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t T = static_cast<std::size_t>(op.ip[0]), n = static_cast<std::size_t>(op.ip[1]);
    const std::size_t B = x.lanes();
    const LaneArg a = lane_arg(x, op.in[0], T * n), b = lane_arg(x, op.in[1], T * n), x0 = lane_arg(x, op.in[2], n);
    if (contiguous(a, B) && contiguous(b, B)) x.template items<kSeries>(n * B, RecurrenceSeries<true>{a, b, x0, x.out(op.out), T, n, B});
    else x.template items<kSeries>(n * B, RecurrenceSeries<false>{a, b, x0, x.out(op.out), T, n, B});
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double *aa = x.a(op.in[0]), *ba = x.a(op.in[1]), *x0a = x.a(op.in[2]);
    if (!aa && !ba && !x0a) return;
    const std::size_t T = static_cast<std::size_t>(op.ip[0]), n = static_cast<std::size_t>(op.ip[1]);
    const std::size_t B = x.lanes();
    const LaneArg a = lane_arg(x, op.in[0], T * n), x0 = lane_arg(x, op.in[2], n);
    if (contiguous(a, B))
      x.template items<kSeries>(n * B, RecurrenceSeriesBack<true>{a, x0, x.v(op.out), x.a(op.out), aa, ba, x0a, T, n, B});
    else
      x.template items<kSeries>(n * B, RecurrenceSeriesBack<false>{a, x0, x.v(op.out), x.a(op.out), aa, ba, x0a, T, n, B});
  }
};

}  // namespace brr::ops
