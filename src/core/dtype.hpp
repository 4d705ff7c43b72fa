// The project's one storage type (--dtype): how the GEMM weights are stored, and on the GPU the
// type the all-reduces travel in. fp32 everywhere; bf16 and fp16 in the GPU build, where cuBLAS
// multiplies them with fp32 accumulation and NCCL sums them as a 16-bit model would. Activations,
// norms, the embedding table and the KV cache stay fp32 in both builds.
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
