// Non-owning views of contiguous doubles: the only array type in C++ signatures.
#pragma once
#include <cstddef>

namespace brr {

template <class T>
struct SpanOf {
  T* data = nullptr;
  std::size_t size = 0;
  T& operator[](std::size_t i) const { return data[i]; }
  T* begin() const { return data; }
  T* end() const { return data + size; }
};

using Span = SpanOf<double>;
using ConstSpan = SpanOf<const double>;

}  // namespace brr
