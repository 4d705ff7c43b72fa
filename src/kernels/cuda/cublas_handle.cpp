#include "kernels/cuda/cublas_handle.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace lb::cuda {

cudaDataType_t cuda_data_type(DType t) {
  switch (t) {
    case DType::F32:
      return CUDA_R_32F;
    case DType::BF16:
      return CUDA_R_16BF;
    case DType::F16:
      return CUDA_R_16F;
  }
  throw Error("lb::cuda::cuda_data_type: bad DType");
}

CublasHandle::CublasHandle(size_t workspace_bytes) {
  LB_CUBLAS_CHECK(cublasCreate(&h_));
  if (workspace_bytes > 0) {
    const cudaError_t e = cudaMalloc(&workspace_, workspace_bytes);
    if (e != cudaSuccess) {
      cublasDestroy(h_);
      h_ = nullptr;
      LB_CUDA_CHECK(e);
    }
    bytes_ = workspace_bytes;
    LB_CUBLAS_CHECK(cublasSetWorkspace(h_, workspace_, bytes_));
  }
}

CublasHandle::~CublasHandle() {
  if (h_) cublasDestroy(h_);
  if (workspace_) cudaFree(workspace_);
}

CublasHandle& CublasHandle::operator=(CublasHandle&& o) noexcept {
  if (this != &o) {
    if (h_) cublasDestroy(h_);
    if (workspace_) cudaFree(workspace_);
    h_ = std::exchange(o.h_, nullptr);
    workspace_ = std::exchange(o.workspace_, nullptr);
    bytes_ = o.bytes_;
  }
  return *this;
}

void CublasHandle::set_stream(cudaStream_t s) {
  LB_CUBLAS_CHECK(cublasSetStream(h_, s));
  if (workspace_) LB_CUBLAS_CHECK(cublasSetWorkspace(h_, workspace_, bytes_));
}

cudaStream_t CublasHandle::stream() const {
  cudaStream_t s = nullptr;
  LB_CUBLAS_CHECK(cublasGetStream(h_, &s));
  return s;
}

void gemm_xwt(CublasHandle& handle, cudaStream_t stream, DType in, DType out, int64_t T, int64_t n, int64_t k,
              const void* x, int64_t ldx, const void* w, int64_t ldw, void* y, int64_t ldy) {
  if (out != in && out != DType::F32)
    throw Error(std::string("lb::cuda::gemm_xwt: output type ") + dtype_name(out) + " for " + dtype_name(in) +
                " inputs (cuBLAS computes in fp32: the output is the inputs' type or fp32)");
  if (T < 0 || n < 0 || k < 0 || ldx < k || ldw < k || ldy < n)
    throw Error("lb::cuda::gemm_xwt: bad shape T=" + std::to_string(T) + " n=" + std::to_string(n) +
                " k=" + std::to_string(k));
  if (T > INT_MAX || n > INT_MAX || k > INT_MAX || ldx > INT_MAX || ldw > INT_MAX || ldy > INT_MAX)
    throw Error("lb::cuda::gemm_xwt: a dimension exceeds INT_MAX");
  if (T == 0 || n == 0) return;
  if (handle.stream() != stream) handle.set_stream(stream);
  // Row-major y[T,n] = x[T,k] w[n,k]^T is, read column-major, y^T (n x T) = w (n x k) x^T (k x T):
  // A = w seen column-major is k x n with ld ldw, so op(A) = A^T; B = x seen column-major is k x T.
  // (cuBLAS wants every ld >= 1 even when k == 0; the product is then y = 0.)
  ldx = std::max<int64_t>(ldx, 1);
  ldw = std::max<int64_t>(ldw, 1);
  const float alpha = 1.0f, beta = 0.0f;
  const cudaDataType_t dt = cuda_data_type(in), yt = cuda_data_type(out);
  LB_CUBLAS_CHECK(cublasGemmEx(handle.get(), CUBLAS_OP_T, CUBLAS_OP_N, int(n), int(T), int(k), &alpha, w, dt,
                               int(ldw), x, dt, int(ldx), &beta, y, yt, int(ldy), CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT));
}

std::string cublas_version() {
  int major = 0, minor = 0, patch = 0;
  cublasGetProperty(MAJOR_VERSION, &major);
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  char buf[96];
  std::snprintf(buf, sizeof buf, "cuBLAS %d.%d.%d (CUDA runtime %d)", major, minor, patch, CUDART_VERSION);
  return buf;
}

}  // namespace lb::cuda
