#include "comm_backend.hpp"

#ifdef LADDERBENCH_CUDA
#include "cuda/comm_nccl.hpp"
#include "cuda/device.hpp"

#include <cuda_runtime.h>
#else
#include "comm_mpi.hpp"
#endif

namespace lb {

std::unique_ptr<Comm> make_backend_comm(MPI_Comm world, const LinkModel& link, double timeout_s) {
#ifdef LADDERBENCH_CUDA
  return cuda::make_nccl_comm(world, ExecSpace().cuda_stream(), link, timeout_s);
#else
  return make_mpi_comm(world, link, timeout_s);
#endif
}

std::string device_name() {
#ifdef LADDERBENCH_CUDA
  int device = 0;
  cudaGetDevice(&device);
  return cuda::device_description(device);
#else
  return "cpu";
#endif
}

}  // namespace lb
