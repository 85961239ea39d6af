// Gather/scatter-add, sums and data-matrix products (concatenation: ops/structure/concat.hpp).
#include <algorithm>
#include <cmath>

#include "ad/kernels.hpp"
#include "ad/linpred_terms.hpp"
#include "common/errors.hpp"
#include "common/reduce.hpp"

namespace brr::ad {

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
