// Error checking for the CUDA runtime, cuBLAS and NCCL: every failing call throws lb::cuda::Error
// naming the call, the library's status name and string, and the source location. Host-only
// header (plain C++ with the CUDA headers): no nvcc needed to include it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <stdexcept>
#include <string>

#if !defined(CUDART_VERSION) || CUDART_VERSION < 12000
#error "ladderbench's CUDA wrappers need CUDA >= 12.0 (graph and capture APIs)"
#endif

namespace lb::cuda {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

inline std::string where(const char* call, const char* file, int line) {
  return std::string(call) + " at " + file + ":" + std::to_string(line);
}

inline void check(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  throw Error("CUDA error " + std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ") in " +
              where(call, file, line));
}

inline void check(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw Error("cuBLAS error " + std::string(cublasGetStatusName(s)) + " (" + cublasGetStatusString(s) + ") in " +
              where(call, file, line));
}

// `comm` may be null (before a communicator exists); with one, NCCL's last detailed message is added.
inline void check(ncclResult_t r, const char* call, const char* file, int line, ncclComm_t comm = nullptr) {
  if (r == ncclSuccess || r == ncclInProgress) return;
  std::string msg = "NCCL error " + std::to_string(int(r)) + " (" + ncclGetErrorString(r) + ") in " +
                    where(call, file, line);
  const char* last = ncclGetLastError(comm);
  if (last && *last) msg += ": " + std::string(last);
  throw Error(msg);
}

}  // namespace lb::cuda

#define LB_CUDA_CHECK(expr) ::lb::cuda::check((expr), #expr, __FILE__, __LINE__)
#define LB_CUBLAS_CHECK(expr) ::lb::cuda::check((expr), #expr, __FILE__, __LINE__)
// NCCL calls that may legitimately return ncclInProgress (non-blocking communicators) pass it
// through; the caller polls ncclCommGetAsyncError.
#define LB_NCCL_CHECK(expr) ::lb::cuda::check((expr), #expr, __FILE__, __LINE__)
#define LB_NCCL_CHECK_COMM(expr, comm) ::lb::cuda::check((expr), #expr, __FILE__, __LINE__, (comm))
