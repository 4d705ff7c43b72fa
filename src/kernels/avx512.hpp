// Host kernels written for AVX-512 (x86-64 with AVX-512F and FMA), each in its own file compiled
// for that ISA alone and called only where the CPU has it (checked at run time); elsewhere the
// portable path runs (the BLAS, a Kokkos kernel). Defined only in the CPU build on x86-64
// (LADDERBENCH_HOST_AVX512).
//
// - The decode-step GEMM: few token rows against every weight row, streamed once
//   (gemm_skinny_avx512.cpp says why the BLAS is not used there). gemm_xwt sends a GEMM here when
//   it has at most kSkinnyMaxRows rows; prefill-sized GEMMs stay with the BLAS.
// - The roofline's read ceiling (sum_avx512.cpp): what one core reads with full-width loads, the
//   ceiling the decode GEMM is measured against.
#pragma once

#include <cstdint>

namespace lb {

// Up to 16 rows the skinny kernel is ahead of every packaged BLAS measured (the crossover with
// OpenBLAS' sgemm is far above: at 16 rows it is still 3x faster).
constexpr int kSkinnyMaxRows = 16;

// Whether this build has the kernels below and this CPU runs them.
bool avx512_available();

// y[t, j] = sum_i x[t, i] w[j, i] for t < T and output columns j in [n0, n1), row-major with row
// strides ldx, ldw, ldy (a row block of a fused weight, a column block of a fused output). Fast for
// T <= kSkinnyMaxRows, correct for any T.
void gemm_xwt_skinny_avx512(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const float* w,
                            int64_t ldw, float* y, int64_t ldy);

// The sum of p[0..n), accumulated in double.
double sum_avx512(const float* p, int64_t n);

}  // namespace lb
