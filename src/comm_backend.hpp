// The communication backend and device of this build, chosen in one place (ExaMiniMD style):
// NCCL on a dedicated stream beside Kokkos' CUDA stream in the CUDA build, MPI with a progress
// thread on the CPU.
#pragma once

#include "comm.hpp"

#include <mpi.h>

#include <memory>
#include <string>

namespace lb {

std::unique_ptr<Comm> make_backend_comm(MPI_Comm world, const LinkModel& link, double timeout_s);

// "cpu", or the GPU this rank runs on (name, compute capability, memory).
std::string device_name();

}  // namespace lb
