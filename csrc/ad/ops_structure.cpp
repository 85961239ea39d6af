// Gather/scatter-add, reductions along an axis, concatenation and data-matrix products.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ad/kernels.hpp"
#include "ad/line_rows.hpp"
#include "ad/linpred_terms.hpp"
#include "common/errors.hpp"
#include "common/reduce.hpp"

namespace brr::ad {

namespace {

struct Axis {
  std::size_t outer, len, inner;
};
Axis axis_of(const Op& op) {
  return {static_cast<std::size_t>(op.ip[0]), static_cast<std::size_t>(op.ip[1]),
          static_cast<std::size_t>(op.ip[2])};
}

// Cumulative sums along every line of an (outer, len, inner) layout; reverse = sums from the end,
// added into o (the adjoint). Each line is a serial chain of adds, so lines are processed four at a
// time (contiguous inner lanes, or four outer rows when inner == 1) to overlap their latencies; every
// line's own order of additions is unchanged.
void cumsum_lines(const Axis& ax, const double* a, double* o, bool reverse) {
  const std::size_t stride = ax.inner, lines = ax.outer * ax.inner;
  auto start = [&](std::size_t line) { return (line / ax.inner) * ax.len * ax.inner + line % ax.inner; };
  auto run = [&](const std::size_t* s, std::size_t k) {
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    for (std::size_t step = 0; step < ax.len; ++step) {
      const std::size_t l = reverse ? ax.len - 1 - step : step;
      for (std::size_t q = 0; q < k; ++q) {
        const std::size_t at = s[q] + l * stride;
        acc[q] += a[at];
        if (reverse) o[at] += acc[q];
        else o[at] = acc[q];
      }
    }
  };
  std::size_t s[4];
  std::size_t line = 0;
  for (; line + 4 <= lines; line += 4) {
    for (std::size_t q = 0; q < 4; ++q) s[q] = start(line + q);
    run(s, 4);
  }
  for (std::size_t q = 0; line + q < lines; ++q) s[q] = start(line + q);
  if (line < lines) run(s, lines - line);
}

}  // namespace

void structure_forward(const Op& op, Ctx& c) {
  switch (op.code) {
    case OpCode::Gather: {
      const double* a = c.v(op.in[0]);
      const int32_t* ix = c.index(op.idx[0]);
      double* o = c.out(op.out);
      const std::size_t n = c.n(op.out);
      for (std::size_t i = 0; i < n; ++i) o[i] = a[ix[i]];
      return;
    }
    case OpCode::ScatterAdd: {
      const double* a = c.v(op.in[0]);
      const int32_t* ix = c.index(op.idx[0]);
      double* o = c.out(op.out);
      const std::size_t n = c.n(op.in[0]), L = c.n(op.out);
      std::fill(o, o + L, 0.0);
      // the gather term's scatter (linpred_terms.hpp): split copies when many values share few groups
      LinTerm t;
      t.va = o;
      t.ix = ix;
      t.L = L;
      scatter_all_rows(t, n, a, c.ws.scratch.data());
      return;
    }
    case OpCode::Sum: {
      const double* a = c.v(op.in[0]);
      c.out(op.out)[0] = lane_sum(c.n(op.in[0]), [a](std::size_t i) { return a[i]; });
      return;
    }
    case OpCode::TargetAdd: {
      const double* a = c.v(op.in[0]);
      c.target += lane_sum(c.n(op.in[0]), [a](std::size_t i) { return a[i]; });
      return;
    }
    case OpCode::CumSum: {
      const Axis ax = axis_of(op);
      cumsum_lines(ax, c.v(op.in[0]), c.out(op.out), false);
      return;
    }
    case OpCode::LogSumExp:
    case OpCode::Softmax: {  // one line at (p, j): stride inner (ad/line_rows.hpp, shared with the device)
      const Axis ax = axis_of(op);
      const double* a = c.v(op.in[0]);
      double* o = c.out(op.out);
      for (std::size_t p = 0; p < ax.outer; ++p)
        for (std::size_t j = 0; j < ax.inner; ++j) {
          const In row{a + p * ax.len * ax.inner + j, ax.inner};
          if (op.code == OpCode::LogSumExp) o[p * ax.inner + j] = line::lse(row, ax.len);
          else line::softmax(row, ax.len, Out{o + p * ax.len * ax.inner + j, ax.inner});
        }
      return;
    }
    case OpCode::Concat: {
      double* o = c.out(op.out);
      for (int s : op.in) {
        std::memcpy(o, c.v(s), c.n(s) * sizeof(double));
        o += c.n(s);
      }
      return;
    }
    case OpCode::DenseMatMul: {
      const std::size_t n = op.ip[0], k = op.ip[1], m = op.ip[2];
      const double* X = c.v(op.in[0]);
      const double* B = c.v(op.in[1]);
      double* o = c.out(op.out);
      for (std::size_t r = 0; r < n; ++r) {
        const double* xr = X + r * k;
        for (std::size_t q = 0; q < m; ++q) {
          double s = 0.0;
          for (std::size_t j = 0; j < k; ++j) s += xr[j] * B[j * m + q];
          o[r * m + q] = s;
        }
      }
      return;
    }
    case OpCode::CsrMatVec: {
      const std::size_t nr = op.ip[0];
      const double* vals = c.v(op.in[0]);
      const double* b = c.v(op.in[1]);
      const int32_t* ptr = c.index(op.idx[0]);
      const int32_t* col = c.index(op.idx[1]);
      double* o = c.out(op.out);
      for (std::size_t r = 0; r < nr; ++r) {
        double s = 0.0;
        for (int32_t q = ptr[r]; q < ptr[r + 1]; ++q) s += vals[q] * b[col[q]];
        o[r] = s;
      }
      return;
    }
    default:
      fail("structure op ", op_label(op.code), " has no kernel");
  }
}

void structure_backward(const Op& op, Ctx& c) {
  switch (op.code) {
    case OpCode::TargetAdd: {
      double* aa = c.a(op.in[0]);
      if (!aa) return;
      const std::size_t n = c.n(op.in[0]);
      for (std::size_t i = 0; i < n; ++i) aa[i] += 1.0;
      return;
    }
    case OpCode::Concat: {
      const double* oa = c.a(op.out);
      for (int s : op.in) {
        double* aa = c.a(s);
        const std::size_t n = c.n(s);
        if (aa)
          for (std::size_t i = 0; i < n; ++i) aa[i] += oa[i];
        oa += n;
      }
      return;
    }
    default:
      break;
  }
  double* aa = c.a(op.in.back());  // the differentiable operand is the last input
  if (!aa) return;
  const double* oa = c.a(op.out);
  switch (op.code) {
    case OpCode::Gather: {
      const int32_t* ix = c.index(op.idx[0]);
      const std::size_t n = c.n(op.out);
      for (std::size_t i = 0; i < n; ++i) aa[ix[i]] += oa[i];
      return;
    }
    case OpCode::ScatterAdd: {
      const int32_t* ix = c.index(op.idx[0]);
      const std::size_t n = c.n(op.in[0]);
      for (std::size_t i = 0; i < n; ++i) aa[i] += oa[ix[i]];
      return;
    }
    case OpCode::Sum: {
      const std::size_t n = c.n(op.in[0]);
      for (std::size_t i = 0; i < n; ++i) aa[i] += oa[0];
      return;
    }
    case OpCode::CumSum: {
      // d/d a[l] = sum over l' >= l of oa[l']: a reverse cumulative sum added into aa
      cumsum_lines(axis_of(op), c.a(op.out), c.a(op.in[0]), true);
      return;
    }
    case OpCode::LogSumExp:
    case OpCode::Softmax: {
      const Axis ax = axis_of(op);
      const double* o = c.v(op.out);
      for (std::size_t p = 0; p < ax.outer; ++p)
        for (std::size_t j = 0; j < ax.inner; ++j) {
          const std::size_t base = p * ax.len * ax.inner + j;
          const Out row_a{aa + base, ax.inner};
          if (op.code == OpCode::LogSumExp)
            line::lse_back(In{c.v(op.in[0]) + base, ax.inner}, o[p * ax.inner + j], oa[p * ax.inner + j], ax.len, row_a);
          else
            line::softmax_back(In{o + base, ax.inner}, In{oa + base, ax.inner}, ax.len, row_a);
        }
      return;
    }
    case OpCode::DenseMatMul: {
      const std::size_t n = op.ip[0], k = op.ip[1], m = op.ip[2];
      const double* X = c.v(op.in[0]);
      for (std::size_t r = 0; r < n; ++r) {
        const double* xr = X + r * k;
        for (std::size_t q = 0; q < m; ++q) {
          const double g = oa[r * m + q];
          for (std::size_t j = 0; j < k; ++j) aa[j * m + q] += xr[j] * g;
        }
      }
      return;
    }
    case OpCode::CsrMatVec: {
      const std::size_t nr = op.ip[0];
      const double* vals = c.v(op.in[0]);
      const int32_t* ptr = c.index(op.idx[0]);
      const int32_t* col = c.index(op.idx[1]);
      for (std::size_t r = 0; r < nr; ++r)
        for (int32_t q = ptr[r]; q < ptr[r + 1]; ++q) aa[col[q]] += vals[q] * oa[r];
      return;
    }
    default:
      fail("structure op ", op_label(op.code), " has no adjoint");
  }
}

}  // namespace brr::ad
