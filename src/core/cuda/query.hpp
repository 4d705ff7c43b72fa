// Asking whether GPU work has finished, without leaving an error behind. cudaStreamQuery and
// cudaEventQuery answer "not yet" with cudaErrorNotReady, and the runtime also keeps that as the
// calling thread's last error: the thread's next LB_CUDA_CHECK(cudaGetLastError()) (after a kernel
// launch: the cast before a 16-bit GEMM, the link delay) would then throw on work that is fine.
// PyTorch clears it after every query for this reason; every query here goes through these.
#pragma once

#include <cuda_runtime_api.h>

namespace lb::cuda {

// `query()` once; a cudaErrorNotReady answer is cleared from the thread's last error by
// `clear_last_error()` (cudaGetLastError) and returned. The runtime calls are parameters so that
// the rule is tested without a GPU.
template <class Query, class ClearLastError>
cudaError_t query_clearing_not_ready(Query&& query, ClearLastError&& clear_last_error) {
  const cudaError_t e = query();
  if (e == cudaErrorNotReady) clear_last_error();
  return e;
}

inline cudaError_t query_stream(cudaStream_t s) {
  return query_clearing_not_ready([&] { return cudaStreamQuery(s); }, [] { cudaGetLastError(); });
}

inline cudaError_t query_event(cudaEvent_t e) {
  return query_clearing_not_ready([&] { return cudaEventQuery(e); }, [] { cudaGetLastError(); });
}

}  // namespace lb::cuda
