#include "comm/cuda/delay.hpp"

#include "core/cuda/check.hpp"

namespace lb::cuda {
namespace {

__device__ __forceinline__ uint64_t globaltimer_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void delay_kernel(uint64_t ns) {
  const uint64_t start = globaltimer_ns();
  // The timer ticks in steps of up to ~1 us on some parts: sleep in short slices and re-check.
  while (globaltimer_ns() - start < ns) __nanosleep(200);
}

__global__ void read_globaltimer_kernel(uint64_t* out) { *out = globaltimer_ns(); }

}  // namespace

void enqueue_delay(cudaStream_t stream, int64_t ns) {
  if (ns <= 0) return;
  delay_kernel<<<1, 1, 0, stream>>>(uint64_t(ns));
  LB_CUDA_CHECK(cudaGetLastError());
}

void enqueue_read_globaltimer(cudaStream_t stream, uint64_t* out_ns) {
  read_globaltimer_kernel<<<1, 1, 0, stream>>>(out_ns);
  LB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace lb::cuda
