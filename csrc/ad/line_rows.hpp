// Log-sum-exp and softmax along one line of an (outer, len, inner) layout, over strided views (the
// line's stride: inner on the CPU, inner * B on the device), with their adjoints: written once for
// ops_structure.cpp and the device kernels (backend/grid_kernels.hpp).
#pragma once
#include <cmath>
#include <cstddef>

#include "common/hd.hpp"
#include "common/view.hpp"

namespace brr::ad::line {

// log-sum-exp shifted by the line's maximum (by 0 when that is not finite)
BRR_HD inline double lse(In a, std::size_t len) {
  double m = -HUGE_VAL;
  for (std::size_t l = 0; l < len; ++l) m = m < a[l] ? a[l] : m;
  if (!std::isfinite(m)) m = 0.0;
  double s = 0.0;
  for (std::size_t l = 0; l < len; ++l) s += std::exp(a[l] - m);
  return m + std::log(s);
}

BRR_HD inline void softmax(In a, std::size_t len, Out o) {
  const double l = lse(a, len);
  for (std::size_t i = 0; i < len; ++i) o[i] = std::exp(a[i] - l);
}

// aa += g * softmax(a), given the line's log-sum-exp
BRR_HD inline void lse_back(In a, double lse_value, double g, std::size_t len, Out aa) {
  for (std::size_t l = 0; l < len; ++l) aa[l] += g * std::exp(a[l] - lse_value);
}

// aa += o * (oa - <oa, o>) for o = softmax(a)
BRR_HD inline void softmax_back(In o, In oa, std::size_t len, Out aa) {
  double dot = 0.0;
  for (std::size_t l = 0; l < len; ++l) dot += oa[l] * o[l];
  for (std::size_t l = 0; l < len; ++l) aa[l] += o[l] * (oa[l] - dot);
}

}  // namespace brr::ad::line
