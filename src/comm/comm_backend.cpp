#include "comm/comm_backend.hpp"

#ifdef LADDERBENCH_CUDA
#include "comm/cuda/comm_nccl.hpp"
#include "core/cuda/device.hpp"

#include <cuda_runtime.h>
#else
#include "comm/comm_mpi.hpp"
#include "comm/comm_shm.hpp"
#endif

#include "kernels/gemm.hpp"

#include <stdexcept>

namespace lb {

std::unique_ptr<Comm> make_backend_comm(MPI_Comm world, const LinkModel& link, double timeout_s, DType wire) {
#ifdef LADDERBENCH_CUDA
  // One rank reduces nothing: no NCCL bootstrap, which a sandboxed single-GPU machine may refuse
  // (no network interface for its sockets) and which would only add a watchdog thread.
  int ranks = 1;
  MPI_Comm_size(world, &ranks);
  if (ranks == 1) return make_null_comm();
  return cuda::make_nccl_comm(world, ExecSpace().cuda_stream(), link, timeout_s, wire);
#else
  if (wire != DType::F32)
    throw std::logic_error(std::string("make_backend_comm: the CPU build has no ") + dtype_name(wire) + " all-reduce");
  // Ranks on one node sum through shared memory, each completing its own all-reduces; across
  // nodes MPI carries them, driven by a progress thread (OpenMPI 4.1 moves a nonblocking
  // collective only inside MPI calls).
  if (all_ranks_on_one_node(world)) return make_shm_comm(world, link, timeout_s);
  return make_mpi_comm(world, link, timeout_s);
#endif
}

DType backend_wire_type(DType weights) {
#ifdef LADDERBENCH_CUDA
  return weights;
#else
  (void)weights;
  return DType::F32;
#endif
}

bool backend_has_progress_thread(MPI_Comm world) {
#ifdef LADDERBENCH_CUDA
  (void)world;
  return false;
#else
  return !all_ranks_on_one_node(world);
#endif
}

std::string device_name() {
#ifdef LADDERBENCH_CUDA
  int device = 0;
  cudaGetDevice(&device);
  // The index too: ranks on one node differ only by it (which GPU each rank picked).
  return "cuda:" + std::to_string(device) + " " + cuda::device_description(device);
#else
  return "cpu";
#endif
}

std::vector<std::pair<std::string, std::string>> backend_versions() {
  std::vector<std::pair<std::string, std::string>> v = {{"blas", blas_version()}};
#ifdef LADDERBENCH_CUDA
  v.push_back({"nccl", cuda::nccl_version()});
  v.push_back({"cuda_runtime", std::to_string(CUDART_VERSION)});
#endif
  return v;
}

}  // namespace lb
