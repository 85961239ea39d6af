// BRR_AVX2_CLONES before a hot row kernel compiles it twice, for baseline x86-64 and for AVX2, and the
// loader picks the clone once for the CPU it runs on (GCC's target_clones, an ifunc). flatten inlines
// every helper the kernel calls into each clone (a helper left out of line would run baseline code).
// The AVX2 clone gathers and adds four doubles at a time; with -ffp-contract=off and no reassociation
// (lane_sum fixes the order of every sum) both clones give the same bits, so draws do not depend on the
// machine.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define BRR_AVX2_CLONES __attribute__((target_clones("avx2", "default"), flatten))
#else
#define BRR_AVX2_CLONES
#endif
