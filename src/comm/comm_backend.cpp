#include "comm/comm_backend.hpp"

#ifdef LADDERBENCH_CUDA
#include "comm/cuda/comm_nccl.hpp"
#include "core/cuda/device.hpp"
#include "kernels/cuda/weight_dtype.hpp"

#include <cuda_runtime.h>
#else
#include "comm/comm_mpi.hpp"
#endif

#include <stdexcept>

namespace lb {

std::unique_ptr<Comm> make_backend_comm(MPI_Comm world, const LinkModel& link, double timeout_s, WeightType wire) {
#ifdef LADDERBENCH_CUDA
  return cuda::make_nccl_comm(world, ExecSpace().cuda_stream(), link, timeout_s, cuda::dtype_of(wire));
#else
  if (wire != WeightType::F32)
    throw std::logic_error(std::string("make_backend_comm: the CPU build has no ") + weight_type_name(wire) + " all-reduce");
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
