// fp32 <-> bf16/fp16 on the GPU: the activations' cast in front of a GEMM whose weights are stored
// in 16 bits (cuBLAS wants both inputs of a product in one type; the fp32 output needs no cast),
// and both ways around a 16-bit all-reduce of an fp32 buffer (NcclCommOptions::wire).
#pragma once

#include "kernels/cuda/cublas_handle.hpp"

#include <cuda_runtime_api.h>

#include <cstddef>

namespace lb::cuda {

// y[i] = x[i] rounded to nearest even in `type` (BF16 or F16), i < n, on `stream`. Capturable.
// Throws lb::cuda::Error for F32 or a failed launch.
void enqueue_cast(cudaStream_t stream, const float* x, DType type, void* y, size_t n);

// y[i] = float(x[i]) for x in `type` (BF16 or F16), i < n, on `stream`: exact. Capturable.
void enqueue_widen(cudaStream_t stream, const void* x, DType type, float* y, size_t n);

}  // namespace lb::cuda
