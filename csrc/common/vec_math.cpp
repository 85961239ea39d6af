// vec_math.hpp's kernels. The AVX2 functions are compiled for that target alone and are only called
// after the CPU was checked, so the library still runs on any x86-64.
#include "common/vec_math.hpp"

#include <cmath>

#if defined(BRR_HAVE_LIBMVEC) && defined(__x86_64__) && defined(__GNUC__)
#define BRR_VEC_AVX2 1
#include <immintrin.h>
#endif

namespace brr {

namespace {

template <double (*F)(double)>
void scalar_map(const double* x, double* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = F(x[i]);
}
double exp_d(double v) { return std::exp(v); }
double log_d(double v) { return std::log(v); }
double log1p_d(double v) { return std::log1p(v); }
double cos_d(double v) { return std::cos(v); }
double sin_d(double v) { return std::sin(v); }

#ifdef BRR_VEC_AVX2
#pragma GCC push_options
#pragma GCC target("avx2,fma")
extern "C" {
__m256d _ZGVdN4v_exp(__m256d);
__m256d _ZGVdN4v_log(__m256d);
__m256d _ZGVdN4v_log1p(__m256d);
__m256d _ZGVdN4v_cos(__m256d);
__m256d _ZGVdN4v_sin(__m256d);
}

template <__m256d (*K)(__m256d)>
void avx2_map(const double* x, double* y, std::size_t n, double pad) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, K(_mm256_loadu_pd(x + i)));
  if (i < n) {
    alignas(32) double in[4] = {pad, pad, pad, pad}, out[4];
    for (std::size_t j = i; j < n; ++j) in[j - i] = x[j];
    _mm256_store_pd(out, K(_mm256_load_pd(in)));
    for (std::size_t j = i; j < n; ++j) y[j] = out[j - i];
  }
}
#pragma GCC pop_options

bool cpu_has_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
#endif

}  // namespace

bool vec_math_simd() {
#ifdef BRR_VEC_AVX2
  return cpu_has_avx2();
#else
  return false;
#endif
}

// Each function: libmvec's kernel when the CPU has AVX2 (tails padded with a harmless value), else libm.
#ifdef BRR_VEC_AVX2
#define BRR_VEC_MAP(kernel, scalar, pad)                                  \
  if (cpu_has_avx2()) return avx2_map<kernel>(x, y, n, pad);              \
  scalar_map<scalar>(x, y, n)
#else
#define BRR_VEC_MAP(kernel, scalar, pad) scalar_map<scalar>(x, y, n)
#endif

void vec_exp(const double* x, double* y, std::size_t n) { BRR_VEC_MAP(_ZGVdN4v_exp, exp_d, 0.0); }
void vec_log(const double* x, double* y, std::size_t n) { BRR_VEC_MAP(_ZGVdN4v_log, log_d, 1.0); }
void vec_log1p(const double* x, double* y, std::size_t n) { BRR_VEC_MAP(_ZGVdN4v_log1p, log1p_d, 0.0); }
void vec_cos(const double* x, double* y, std::size_t n) { BRR_VEC_MAP(_ZGVdN4v_cos, cos_d, 0.0); }
void vec_sin(const double* x, double* y, std::size_t n) { BRR_VEC_MAP(_ZGVdN4v_sin, sin_d, 0.0); }

#undef BRR_VEC_MAP

}  // namespace brr
