// Elementwise exp, log, log1p, cos and sin over arrays. With BRR_HAVE_LIBMVEC (setup.py defines it when the
// toolchain links glibc's libmvec) and a CPU with AVX2 and FMA, four doubles go through one libmvec
// kernel; otherwise through scalar libm. Tails are padded so every element takes the same path
// whatever its position: a row's value does not depend on how rows are split into blocks or chunks.
#pragma once
#include <cstddef>

namespace brr {

void vec_exp(const double* x, double* y, std::size_t n);
void vec_log(const double* x, double* y, std::size_t n);
void vec_log1p(const double* x, double* y, std::size_t n);
void vec_cos(const double* x, double* y, std::size_t n);
void vec_sin(const double* x, double* y, std::size_t n);

// Whether the libmvec AVX2 path is in use (reported by brr_bayes.build_info()).
bool vec_math_simd();

}  // namespace brr
