// Helpers of the CUDA wrapper tests: skip without a GPU, device buffers.
#pragma once

#include "core/cuda/check.hpp"
#include "core/cuda/device.hpp"
#include "kernels/half.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace lb::cuda::test {

// Skips the calling test (from the test body) unless every rank of MPI_COMM_WORLD has a GPU of its
// own on its node; otherwise selects this rank's device. Collective: call it on every rank.
#define LB_REQUIRE_GPUS_OR_SKIP()                                                                  \
  do {                                                                                             \
    const std::string lb_skip_reason_ = ::lb::cuda::test::gpu_skip_reason();                       \
    if (!lb_skip_reason_.empty()) GTEST_SKIP() << lb_skip_reason_;                                 \
  } while (0)

// "" if usable (and the device is selected), else the reason, identical on every rank.
inline std::string gpu_skip_reason() {
  const DeviceProbe p = probe_devices();
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int node_ranks = 1, node_rank = 0;
  MPI_Comm_size(node, &node_ranks);
  MPI_Comm_rank(node, &node_rank);
  MPI_Comm_free(&node);
  // 0: fine; 1: more ranks than GPUs on some node; 2: no device on some rank.
  int mine = p.count == 0 ? 2 : (p.count < node_ranks ? 1 : 0), worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (worst == 2)
    return "no CUDA device: " + (p.count == 0 ? p.reason : std::string("none on another rank")) +
           " (this test runs on a GPU machine)";
  if (worst == 1)
    return "only " + std::to_string(p.count) + " CUDA device(s) for " + std::to_string(node_ranks) +
           " ranks on a node: NCCL needs one GPU per rank";
  select_device(node_rank);
  return "";
}

// A device allocation (RAII).
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) { LB_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T) + 1)); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  size_t size() const { return n_; }
  // Synchronous with respect to every stream: the tests' streams are non-blocking, so a plain
  // cudaMemcpy (legacy stream; may return before a pageable upload lands) would not order them.
  void upload(const std::vector<T>& h) const {
    LB_CUDA_CHECK(cudaMemcpy(p_, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    LB_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void zero() const {
    LB_CUDA_CHECK(cudaMemset(p_, 0, n_ * sizeof(T)));
    LB_CUDA_CHECK(cudaDeviceSynchronize());
  }
  // The caller synchronizes the stream that wrote the buffer first.
  std::vector<T> download() const {
    std::vector<T> h(n_);
    LB_CUDA_CHECK(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

// The library's codecs (src/kernels/half.hpp), under the names the tests use.
using lb::from_bf16;
using lb::from_f16;
using lb::to_bf16;
using lb::to_f16;

}  // namespace lb::cuda::test
