#include "kernels/cuda/convert.hpp"

#include "core/cuda/check.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

namespace lb::cuda {
namespace {

template <class Half, Half (*round)(float)>
__global__ void cast_kernel(const float* __restrict__ x, Half* __restrict__ y, size_t n) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    y[i] = round(x[i]);
}

template <class Half, float (*widen)(Half)>
__global__ void widen_kernel(const Half* __restrict__ x, float* __restrict__ y, size_t n) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    y[i] = widen(x[i]);
}

__device__ __nv_bfloat16 round_bf16(float f) { return __float2bfloat16_rn(f); }
__device__ __half round_f16(float f) { return __float2half_rn(f); }
__device__ float widen_bf16(__nv_bfloat16 h) { return __bfloat162float(h); }
__device__ float widen_f16(__half h) { return __half2float(h); }

constexpr unsigned kThreads = 256;
unsigned blocks_for(size_t n) { return unsigned(std::min<size_t>((n + kThreads - 1) / kThreads, 4096)); }

}  // namespace

void enqueue_cast(cudaStream_t stream, const float* x, DType type, void* y, size_t n) {
  if (n == 0) return;
  switch (type) {
    case DType::BF16:
      cast_kernel<__nv_bfloat16, round_bf16><<<blocks_for(n), kThreads, 0, stream>>>(x, static_cast<__nv_bfloat16*>(y), n);
      break;
    case DType::F16:
      cast_kernel<__half, round_f16><<<blocks_for(n), kThreads, 0, stream>>>(x, static_cast<__half*>(y), n);
      break;
    case DType::F32:
      throw Error("lb::cuda::enqueue_cast: the target type must be bf16 or fp16");
  }
  LB_CUDA_CHECK(cudaGetLastError());
}

void enqueue_widen(cudaStream_t stream, const void* x, DType type, float* y, size_t n) {
  if (n == 0) return;
  switch (type) {
    case DType::BF16:
      widen_kernel<__nv_bfloat16, widen_bf16><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), y, n);
      break;
    case DType::F16:
      widen_kernel<__half, widen_f16><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<const __half*>(x), y, n);
      break;
    case DType::F32:
      throw Error("lb::cuda::enqueue_widen: the source type must be bf16 or fp16");
  }
  LB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lb::cuda
