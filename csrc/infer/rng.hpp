// xoshiro256++ with jump(): chain c uses the stream after c jumps of 2^128, so draws do not
// depend on how chains are spread over threads. The state is four words: easy to save and restore.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace brr::infer {

class Rng {
 public:
  std::array<uint64_t, 4> s{};

  Rng() = default;
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t z = seed;
    for (auto& w : s) w = splitmix(z);
    for (uint64_t i = 0; i < stream; ++i) jump();
  }
  uint64_t next() {
    const uint64_t result = rotl(s[0] + s[3], 23) + s[0];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
  // n standard normals by Box-Muller, both values of each pair (r cos a, r sin a): one log and one
  // square root per two values, the logs and trigonometric functions over arrays (vec_math).
  // Draws depend only on the state and n.
  void normals(double* out, std::size_t n);
  void jump() {
    static constexpr uint64_t J[] = {0x180ec6d33cfd0aba, 0xd5a61266f0c9392c, 0xa9582618e03fc9aa,
                                     0x39abdc4529b1661c};
    std::array<uint64_t, 4> t{};
    for (uint64_t j : J)
      for (int b = 0; b < 64; ++b) {
        if (j & (uint64_t{1} << b))
          for (int k = 0; k < 4; ++k) t[k] ^= s[k];
        next();
      }
    s = t;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
};

}  // namespace brr::infer
