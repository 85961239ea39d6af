// A vector seen through a stride: element i at p[i * s]. The CPU kernels pass s = 1 (contiguous), the
// device kernels s = B (element i of lane b at i * B + b), so one body serves both executors.
#pragma once
#include <cstddef>

#include "common/hd.hpp"

namespace brr {

template <class T>
struct View {
  T* p = nullptr;
  std::size_t s = 1;
  BRR_HD T& operator[](std::size_t i) const { return p[i * s]; }
  BRR_HD explicit operator bool() const { return p != nullptr; }
  BRR_HD View at(std::size_t i) const { return p ? View{p + i * s, s} : View{}; }  // from element i on (empty stays empty)
};

using In = View<const double>;
using Out = View<double>;

}  // namespace brr
