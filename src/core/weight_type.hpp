// How the GEMM weights are stored (--dtype): fp32 everywhere; bf16 and fp16 in the GPU build,
// where cuBLAS multiplies them with fp32 accumulation. Everything else (activations, norms, the
// embedding table, the KV cache, the all-reduces) stays fp32 in both builds.
#pragma once

#include <cstdint>
#include <string>

namespace lb {

enum class WeightType { F32, BF16, F16 };

// "fp32" | "bf16" | "fp16" (the --dtype names); throws UserError for anything else.
WeightType parse_weight_type(const std::string& name);
const char* weight_type_name(WeightType t);
int64_t weight_type_bytes(WeightType t);

}  // namespace lb
