// The project's one storage type (--dtype): how the GEMM weights are stored, and on the GPU the
// type the all-reduces travel in. fp32, bf16 or fp16 in both builds: on the GPU cuBLAS multiplies
// 16-bit inputs with fp32 accumulation and NCCL sums them as a 16-bit model would; on the CPU the
// decode kernel widens 16-bit weights to fp32 in registers (half the bytes streamed) and the
// all-reduces stay fp32. Activations, norms, the embedding table and the KV cache stay fp32 in
// both builds.
#pragma once

#include <cstdint>
#include <string>

namespace lb {

enum class DType { F32, BF16, F16 };

// "fp32" | "bf16" | "fp16" (the --dtype names); throws UserError for anything else.
DType parse_dtype(const std::string& name);
const char* dtype_name(DType t);
int64_t dtype_bytes(DType t);

}  // namespace lb
