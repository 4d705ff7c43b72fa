// 16-bit weights (bf16, fp16 bit patterns) widened to fp32 with SIMD: the CPU build's prefill
// GEMMs with 16-bit weights widen a block of weight rows and hand it to the fp32 BLAS
// (kernels/gemm_host_blas.cpp). CPU build only.
#pragma once

#include "core/dtype.hpp"

#include <cstdint>

namespace lb {

// out[i] = in[i] as fp32 (exact: every bf16 and fp16 value is an fp32 value), i < n; `type` BF16 or F16.
void widen_to_f32(DType type, const uint16_t* in, float* out, int64_t n);

}  // namespace lb
