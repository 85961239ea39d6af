// Broadcast strides as compile-time constants. An input's stride is 1 (full length) or 0 (size 1,
// broadcast); body(SA, SB) is instantiated for the pair, so a broadcast value is hoisted out of the
// loop and the loop vectorises.
#pragma once
#include <cstddef>
#include <type_traits>

namespace brr {

template <class Body>
inline void with_strides(std::size_t sa, std::size_t sb, Body body) {
  using One = std::integral_constant<std::size_t, 1>;
  using Zero = std::integral_constant<std::size_t, 0>;
  if (sa && sb) body(One{}, One{});
  else if (sa) body(One{}, Zero{});
  else if (sb) body(Zero{}, One{});
  else body(Zero{}, Zero{});
}

}  // namespace brr
