// Terms of a fused linear predictor (LinearPredictor and GlmLpdf share them): eta[i] = sum over terms of
// a[idx[i]], s, v[i] or s * v[i] (a scalar and a vector, both values of the program, as sigma * (u + w)
// distributed gives), each optionally times a data column d[i]. Block functions take a row range so a
// caller can keep eta and its adjoint in a cache-sized buffer.
#pragma once
#include <algorithm>
#include <cstdint>

#include "ad/executor.hpp"
#include "common/reduce.hpp"
#include "ir/glm_codes.hpp"

namespace brr::ad {

struct LinTerm {
  int64_t kind = 0;             // 0 gather, 1 scalar, 2 dense, 3 scaled dense (s * v[i])
  const double* v = nullptr;    // values (group effects, scalar or column)
  double* va = nullptr;         // their adjoint, or nullptr
  const int32_t* ix = nullptr;  // gather index
  const double* d = nullptr;    // optional data multiplier
  const double* s = nullptr;    // kind 3: the scalar factor
  double* sa = nullptr;         // kind 3: its adjoint, or nullptr
  std::size_t L = 0;            // number of values
  // narrow copies of the same rows (ir/narrow.hpp), read instead of ix and d when present
  const uint8_t* ix8 = nullptr;
  const uint16_t* ix16 = nullptr;
  const uint8_t* dcode = nullptr;  // d[i] == dtable[dcode[i]]
  const double* dtable = nullptr;
};

// The term whose 4 ints start at op.ip[q] (kind, value input, index position, data input); a scaled
// dense term (kind 3) holds its scalar's input position where a gather holds its index position.
inline LinTerm read_term(const Op& op, Ctx& c, std::size_t q) {
  const int64_t kind = op.ip[q], vi = op.ip[q + 1], xi = op.ip[q + 2], di = op.ip[q + 3];
  LinTerm t;
  t.kind = kind;
  t.v = c.v(op.in[vi]);
  t.va = c.a(op.in[vi]);
  if (kind == kTermScaled) {
    t.s = c.v(op.in[xi]);
    t.sa = c.a(op.in[xi]);
  } else if (xi >= 0) {
    t.ix = c.index(op.idx[xi]);
    const ir::NarrowIndex& nx = c.prog.narrow_index(op.idx[xi]);
    if (!nx.u8.empty()) t.ix8 = nx.u8.data();
    if (!nx.u16.empty()) t.ix16 = nx.u16.data();
  }
  if (di >= 0) {
    t.d = c.v(op.in[di]);
    if (const ir::CodedColumn* cc = c.prog.coded(op.in[di])) {
      t.dcode = cc->code.data();
      t.dtable = cc->table.data();
    }
  }
  t.L = c.n(op.in[vi]);
  return t;
}

// Whether a term has any adjoint to take (a scaled dense term: its vector's or its scalar's).
inline bool wants_adjoint(const LinTerm& t) { return t.va || t.sa; }

// Row accessors from row b0 on: the group index (32, 16 or 8 bits) and the data multiplier (none, a
// column, or a coded column). The row loops below are written once over them and instantiated per
// storage; every instance reads the same numbers, so the results do not depend on the storage.
template <class T>
struct IndexRows {
  const T* p;
  std::size_t operator()(std::size_t i) const { return p[i]; }
};
struct NoData {
  static constexpr bool kHas = false;
  double operator()(std::size_t) const { return 1.0; }
};
struct ColumnRows {
  static constexpr bool kHas = true;
  const double* d;
  double operator()(std::size_t i) const { return d[i]; }
};
struct CodedRows {
  static constexpr bool kHas = true;
  const uint8_t* code;
  const double* table;
  double operator()(std::size_t i) const { return table[code[i]]; }
};

template <class F>
inline void with_index(const LinTerm& t, std::size_t b0, F f) {
  if (t.ix8) f(IndexRows<uint8_t>{t.ix8 + b0});
  else if (t.ix16) f(IndexRows<uint16_t>{t.ix16 + b0});
  else f(IndexRows<int32_t>{t.ix + b0});
}

template <class F>
inline void with_data(const LinTerm& t, std::size_t b0, F f) {
  if (t.dcode) f(CodedRows{t.dcode + b0, t.dtable});
  else if (t.d) f(ColumnRows{t.d + b0});
  else f(NoData{});
}

// out[0..m) += the term's rows b0 .. b0+m. out is the caller's own buffer, never the term's values or
// data: each loop is declared free of dependences so that the gathers vectorise.
inline void add_term_rows(const LinTerm& t, std::size_t b0, std::size_t m, double* out) {
  with_data(t, b0, [&](auto d) {
    constexpr bool kD = decltype(d)::kHas;
    if (t.kind == kTermGather) {
      const double* v = t.v;
      with_index(t, b0, [&](auto ix) {
        if constexpr (kD) BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += d(i) * v[ix(i)];
        else BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += v[ix(i)];
      });
    } else if (t.kind == kTermScalar) {
      const double s = t.v[0];
      if constexpr (kD) BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += d(i) * s;
      else BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += s;
    } else if (t.kind == kTermDense) {
      const double* v = t.v + b0;
      if constexpr (kD) BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += d(i) * v[i];
      else BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += v[i];
    } else {
      const double* v = t.v + b0;
      const double s = t.s[0];
      if constexpr (kD) BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += d(i) * (s * v[i]);
      else BRR_IVDEP for (std::size_t i = 0; i < m; ++i) out[i] += s * v[i];
    }
  });
}

// Scatter-add of g[0..m) (rows b0 .. b0+m) into four interleaved copies acc[0..4L): consecutive rows with
// the same group id (rows are often sorted by group) then update different memory, so the adds do not
// wait on each other. fold_split adds the copies into the adjoint.
inline void split_scatter_rows(const LinTerm& t, std::size_t b0, std::size_t m, const double* g, double* acc) {
  double* a0 = acc;
  double* a1 = acc + t.L;
  double* a2 = acc + 2 * t.L;
  double* a3 = acc + 3 * t.L;
  with_data(t, b0, [&](auto d) {
    constexpr bool kD = decltype(d)::kHas;
    with_index(t, b0, [&](auto ix) {
      std::size_t i = 0;
      if constexpr (kD) {
        for (; i + 4 <= m; i += 4) {
          a0[ix(i)] += d(i) * g[i];
          a1[ix(i + 1)] += d(i + 1) * g[i + 1];
          a2[ix(i + 2)] += d(i + 2) * g[i + 2];
          a3[ix(i + 3)] += d(i + 3) * g[i + 3];
        }
        for (; i < m; ++i) a0[ix(i)] += d(i) * g[i];
      } else {
        for (; i + 4 <= m; i += 4) {
          a0[ix(i)] += g[i];
          a1[ix(i + 1)] += g[i + 1];
          a2[ix(i + 2)] += g[i + 2];
          a3[ix(i + 3)] += g[i + 3];
        }
        for (; i < m; ++i) a0[ix(i)] += g[i];
      }
    });
  });
}

// Two split scatters of plain gathers (no data multiplier) whose indices share a storage type, in one
// pass over g: each copy receives the same adds in the same order as two split_scatter_rows calls (the
// same bits), with twice the independent updates in flight.
template <class T>
inline void split_scatter_pair(const T* ia, const T* ib, std::size_t La, std::size_t Lb, std::size_t m,
                               const double* g, double* acc_a, double* acc_b) {
  double *a0 = acc_a, *a1 = acc_a + La, *a2 = acc_a + 2 * La, *a3 = acc_a + 3 * La;
  double *b0 = acc_b, *b1 = acc_b + Lb, *b2 = acc_b + 2 * Lb, *b3 = acc_b + 3 * Lb;
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    a0[ia[i]] += g[i];
    b0[ib[i]] += g[i];
    a1[ia[i + 1]] += g[i + 1];
    b1[ib[i + 1]] += g[i + 1];
    a2[ia[i + 2]] += g[i + 2];
    b2[ib[i + 2]] += g[i + 2];
    a3[ia[i + 3]] += g[i + 3];
    b3[ib[i + 3]] += g[i + 3];
  }
  for (; i < m; ++i) {
    a0[ia[i]] += g[i];
    b0[ib[i]] += g[i];
  }
}

// split_scatter_pair for terms a and b (rows b0 .. b0+m) when they qualify; false otherwise.
inline bool split_scatter_two(const LinTerm& a, const LinTerm& b, std::size_t r0, std::size_t m, const double* g,
                              double* acc_a, double* acc_b) {
  if (a.kind != kTermGather || b.kind != kTermGather || a.d || b.d || !a.va || !b.va) return false;
  if (a.ix8 && b.ix8) split_scatter_pair(a.ix8 + r0, b.ix8 + r0, a.L, b.L, m, g, acc_a, acc_b);
  else if (a.ix16 && b.ix16) split_scatter_pair(a.ix16 + r0, b.ix16 + r0, a.L, b.L, m, g, acc_a, acc_b);
  else return false;
  return true;
}

// The four copies pay when rows repeat groups often; with about as many groups as rows, zeroing and
// folding 4L accumulators costs more than the stalls they avoid (W4: 5,000 state-days, 2,000 polls).
inline bool split_pays(std::size_t L, std::size_t rows) { return 4 * L <= rows; }

// Plain scatter-add of g[0..m) (rows b0 .. b0+m) into the term's adjoint.
inline void scatter_rows(const LinTerm& t, std::size_t b0, std::size_t m, const double* g) {
  double* va = t.va;
  with_data(t, b0, [&](auto d) {
    constexpr bool kD = decltype(d)::kHas;
    with_index(t, b0, [&](auto ix) {
      if constexpr (kD) for (std::size_t i = 0; i < m; ++i) va[ix(i)] += d(i) * g[i];
      else for (std::size_t i = 0; i < m; ++i) va[ix(i)] += g[i];
    });
  });
}

inline void fold_split(const double* acc, std::size_t L, double* va) {
  for (std::size_t k = 0; k < L; ++k) va[k] += (acc[k] + acc[L + k]) + (acc[2 * L + k] + acc[3 * L + k]);
}

// Scatter-add of g[0..m) (all of the term's rows) into t.va: through four split copies in acc (4 L
// doubles of scratch) when they pay, else plain.
inline void scatter_all_rows(const LinTerm& t, std::size_t m, const double* g, double* acc) {
  if (!split_pays(t.L, m)) return scatter_rows(t, 0, m, g);
  std::fill(acc, acc + 4 * t.L, 0.0);
  split_scatter_rows(t, 0, m, g, acc);
  fold_split(acc, t.L, t.va);
}

// Adjoint sum of a scalar term over rows b0 .. b0+m.
inline double scalar_adjoint_rows(const LinTerm& t, std::size_t b0, std::size_t m, const double* g) {
  double out = 0.0;
  with_data(t, b0, [&](auto d) {
    if constexpr (decltype(d)::kHas) out = lane_sum(m, [d, g](std::size_t i) { return d(i) * g[i]; });
    else out = lane_sum(m, [g](std::size_t i) { return g[i]; });
  });
  return out;
}

// Adjoint of a dense term over rows b0 .. b0+m.
inline void dense_adjoint_rows(const LinTerm& t, std::size_t b0, std::size_t m, const double* g) {
  double* va = t.va + b0;
  with_data(t, b0, [&](auto d) {
    if constexpr (decltype(d)::kHas) for (std::size_t i = 0; i < m; ++i) va[i] += d(i) * g[i];
    else for (std::size_t i = 0; i < m; ++i) va[i] += g[i];
  });
}

// Adjoints of a scaled dense term over rows b0 .. b0+m: its vector's in place (s * d[i] g[i]); returns
// its scalar's part, sum of v[i] * d[i] g[i], for the caller to add up in row order.
inline double scaled_adjoint_rows(const LinTerm& t, std::size_t b0, std::size_t m, const double* g) {
  const double* v = t.v + b0;
  double out = 0.0;
  with_data(t, b0, [&](auto d) {
    constexpr bool kD = decltype(d)::kHas;
    if (t.va) {
      double* va = t.va + b0;
      const double s = t.s[0];
      if constexpr (kD) for (std::size_t i = 0; i < m; ++i) va[i] += s * (d(i) * g[i]);
      else for (std::size_t i = 0; i < m; ++i) va[i] += s * g[i];
    }
    if (!t.sa) return;
    if constexpr (kD) out = lane_sum(m, [v, d, g](std::size_t i) { return v[i] * (d(i) * g[i]); });
    else out = lane_sum(m, [v, g](std::size_t i) { return v[i] * g[i]; });
  });
  return out;
}

}  // namespace brr::ad
