// The decode-step GEMM on the CPU: y = x·Wᵀ for a few token rows against every weight row, each
// weight streamed from memory once (gemm_skinny.cpp says how and why not the BLAS). Written once
// against Highway and compiled for every SIMD target of the architecture; each call runs the best
// one this CPU has, capped by LB_MAX_CPU_ISA (kernels/cpu_isa.hpp). CPU build only.
#pragma once

#include "core/dtype.hpp"

#include <cstdint>

namespace lb {

// Up to this many token rows the skinny kernel is ahead of the BLAS (at 16 rows OpenBLAS' sgemm
// is still 3x slower: docs/measurement.md, "CPU decode GEMM"); gemm_xwt sends it those GEMMs.
constexpr int kSkinnyMaxRows = 16;

// Output columns per tile of the kernel: callers splitting [n0, n1) over threads cut at multiples.
constexpr int kSkinnyColumnTile = 4;

// y[t, j] = sum_i x[t, i] w[j, i] for t < T and output columns j in [n0, n1), row-major with row
// strides ldx, ldw, ldy (a row block of a fused weight, a column block of a fused output); fp32
// accumulation. Fast for T <= kSkinnyMaxRows, correct for any T.
void gemm_xwt_skinny(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const float* w, int64_t ldw,
                     float* y, int64_t ldy);
// The same with 16-bit weights (`type` BF16 or F16: their bit patterns), widened to fp32 in
// registers: a step streams half the bytes of fp32 weights.
void gemm_xwt_skinny(DType type, int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const uint16_t* w,
                     int64_t ldw, float* y, int64_t ldy);

// The Highway target (HWY_AVX3, HWY_AVX2, ...) the calls above run now.
int64_t gemm_skinny_target();

}  // namespace lb
