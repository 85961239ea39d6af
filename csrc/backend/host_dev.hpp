// The device policy of the host: buffers are vectors and a grid is a loop over its indices, so the
// device executor's kernels run, and are tested, on any machine.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace brr::backend {

struct HostDev {
  template <class T>
  using Buf = std::vector<T>;
  template <class T>
  static Buf<T> alloc(std::size_t n) { return Buf<T>(n); }
  template <class T>
  static Buf<T> upload(const std::vector<T>& v) { return v; }
  template <class T>
  static T* ptr(const Buf<T>& b) { return const_cast<T*>(b.data()); }
  template <class T>
  static void to_device(T* dst, const T* src, std::size_t n) { std::memcpy(dst, src, n * sizeof(T)); }
  template <class T>
  static void to_host(T* dst, const T* src, std::size_t n) { std::memcpy(dst, src, n * sizeof(T)); }
  template <class T>
  static void zero(T* p, std::size_t n) { std::fill(p, p + n, T{}); }
  template <class K>
  static void launch(std::size_t n, const K& k) {
    for (std::size_t t = 0; t < n; ++t) k(t);
  }
};

}  // namespace brr::backend
