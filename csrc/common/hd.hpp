// BRR_HD marks a function as callable from host and device code: the per-element maths is written once
// and compiled by the host compiler for the CPU kernels and by nvcc for the CUDA ones.
#pragma once

#if defined(__CUDACC__)
#define BRR_HD __host__ __device__
#else
#define BRR_HD
#endif
