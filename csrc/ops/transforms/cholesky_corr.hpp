// CholeskyCorr: Stan's tanh-based Cholesky factor of a K x K correlation matrix (row-major) from its
// K (K - 1) / 2 free values; one factor per lane, its log|J| added to the lane's target.
#pragma once
#include <cmath>

#include "ops/shape_check.hpp"
#include "ops/spec.hpp"

namespace brr::ops {

// lane b's factor (the one element of chain_sum's sum): writes L, returns log|J|
struct CholCorrLane {
  const double* y;
  double* L;
  std::size_t K, B;
  BRR_HD double operator()(std::size_t, std::size_t b) const {
    const In yb{y + b, B};
    const Out Lb{L + b, B};
    double lp = 0.0;
    for (std::size_t i = 0; i < K * K; ++i) Lb[i] = 0.0;
    Lb[0] = 1.0;
    std::size_t k = 0;
    for (std::size_t i = 1; i < K; ++i) {
      double ss = 0.0;
      for (std::size_t j = 0; j < i; ++j, ++k) {
        const double z = std::tanh(yb[k]);
        lp += std::log1p(-z * z);
        if (j == 0) {
          Lb[i * K] = z;
        } else {
          lp += 0.5 * std::log1p(-ss);
          Lb[i * K + j] = z * std::sqrt(1.0 - ss);
        }
        ss += Lb[i * K + j] * Lb[i * K + j];
      }
      const double d = 1.0 - ss;
      Lb[i * K + i] = std::sqrt(d > 0.0 ? d : 0.0);
    }
    return lp;
  }
};

// items: lane b; rr: K working values per lane (work buffer 0)
struct CholCorrBack {
  const double *y, *x, *xa;
  double *ya, *rr;
  std::size_t K, B;
  BRR_HD void operator()(std::size_t first, std::size_t count) const {
    for (std::size_t b = first; b < first + count; ++b) {
      const In yb{y + b, B}, xb{x + b, B}, xab{xa + b, B};
      const Out yab{ya + b, B}, r{rr + b, B};
      for (std::size_t i = 1; i < K; ++i) {
        const std::size_t k0 = i * (i - 1) / 2;
        double ss = 0.0;
        for (std::size_t j = 0; j < i; ++j) {
          r[j] = std::sqrt(1.0 - ss);
          const double L = xb[i * K + j];
          ss += L * L;
        }
        const double rii = xb[i * K + i];
        double adj_ss = rii > 0 ? xab[i * K + i] * (-0.5 / rii) : 0.0;
        for (std::size_t j = i; j-- > 0;) {
          const double L = xb[i * K + j];
          const double z = std::tanh(yb[k0 + j]);
          const double adj_L = xab[i * K + j] + adj_ss * 2.0 * L;
          double adj_z;
          if (j >= 1) {
            adj_z = adj_L * r[j];
            const double adj_r = adj_L * z + 1.0 / r[j];
            adj_ss += adj_r * (-0.5 / r[j]);
          } else {
            adj_z = adj_L;
          }
          adj_z += -2.0 * z / (1.0 - z * z);
          yab[k0 + j] += adj_z * (1.0 - z * z);
        }
      }
    }
  }
};

struct CholeskyCorr {
  static void check_shape(const ShapeCheck& c) {
    c.pos_ip(1);
    const std::size_t K = static_cast<std::size_t>(c.op.ip[0]);
    c.eq(c.in(0), K * (K - 1) / 2, "input");
    c.eq(c.out(), K * K, "output");
    c.work(K);
  }
  static bool on_lanes(const Op& op, const Program& p) { return varies(op, p, 0); }
  template <class X>
  static void forward(const Op& op, X& x) {
    const std::size_t K = static_cast<std::size_t>(op.ip[0]);
    x.chain_sum(1, CholCorrLane{x.v(op.in[0]), x.out(op.out), K, x.lanes()}, x.target());
  }
  template <class X>
  static void backward(const Op& op, X& x) {
    double* ya = x.a(op.in[0]);
    if (!ya) return;
    const std::size_t K = static_cast<std::size_t>(op.ip[0]);
    double* rr = x.work(K, 0);
    x.items(x.lanes(), CholCorrBack{x.v(op.in[0]), x.v(op.out), x.a(op.out), ya, rr, K, x.lanes()});
  }
};

}  // namespace brr::ops
