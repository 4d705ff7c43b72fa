// cuBLAS: an owned handle and the model's one GEMM shape, y = x @ w^T for row-major x [T, k],
// w [n, k] (Hugging Face [out, in] layout) and y [T, n], with fp32, bf16 or fp16 storage and fp32
// accumulation (CUBLAS_COMPUTE_32F; fp32 storage is then true fp32, no TF32).
#pragma once

#include "core/cuda/check.hpp"
#include "core/dtype.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace lb::cuda {

// The project's storage types (core/dtype.hpp) as cuBLAS sees them.
cudaDataType_t cuda_data_type(DType t);

class CublasHandle {
 public:
  // Creates a handle on the current device. `workspace_bytes` > 0 gives it its own workspace
  // (cublasSetWorkspace), which CUDA-graph capture wants: cuBLAS then never allocates during
  // capture. 32 MiB is NVIDIA's recommendation for Hopper.
  explicit CublasHandle(size_t workspace_bytes = size_t(32) << 20);
  ~CublasHandle();
  CublasHandle(CublasHandle&& o) noexcept
      : h_(std::exchange(o.h_, nullptr)), workspace_(std::exchange(o.workspace_, nullptr)), bytes_(o.bytes_) {}
  CublasHandle& operator=(CublasHandle&& o) noexcept;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;

  cublasHandle_t get() const { return h_; }
  // Binds the handle to `s` (cublasSetStream; the workspace is set again, as cublasSetStream
  // resets it to the default one).
  void set_stream(cudaStream_t s);
  cudaStream_t stream() const;

 private:
  cublasHandle_t h_ = nullptr;
  void* workspace_ = nullptr;
  size_t bytes_ = 0;
};

// y = x @ w^T on `stream` (the handle is bound to it first). x and w in `in` storage, y in `out`
// (`out` is `in`, or F32: cuBLAS writes the fp32 accumulators of a bf16/fp16 product unrounded);
// ld's are the row strides (contiguous: k, k, n). Device pointers. Asynchronous.
void gemm_xwt(CublasHandle& handle, cudaStream_t stream, DType in, DType out, int64_t T, int64_t n, int64_t k,
              const void* x, int64_t ldx, const void* w, int64_t ldw, void* y, int64_t ldy);

// All three in `type` storage.
inline void gemm_xwt(CublasHandle& handle, cudaStream_t stream, DType type, int64_t T, int64_t n, int64_t k,
                     const void* x, int64_t ldx, const void* w, int64_t ldw, void* y, int64_t ldy) {
  gemm_xwt(handle, stream, type, type, T, n, k, x, ldx, w, ldw, y, ldy);
}

// Contiguous operands.
inline void gemm_xwt(CublasHandle& handle, cudaStream_t stream, DType type, int64_t T, int64_t n, int64_t k,
                     const void* x, const void* w, void* y) {
  gemm_xwt(handle, stream, type, T, n, k, x, k, w, k, y, n);
}

// "cuBLAS 13.0.0 (CUDA runtime 13000)"; needs no device.
std::string cublas_version();

}  // namespace lb::cuda
