// The communication backend and device of this build, chosen in one place (ExaMiniMD style):
// NCCL on a dedicated stream beside Kokkos' CUDA stream in the CUDA build; on the CPU, shared
// memory when every rank is on one node, else MPI with a progress thread.
#pragma once

#include "comm/comm.hpp"
#include "core/dtype.hpp"

#include <mpi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lb {

// At one rank the GPU build needs no collective and uses the null communicator.
// `wire`: what the all-reduces travel as. The GPU build sends them in the weights' type (a 16-bit
// model's activations are 16-bit); the CPU build computes and sends fp32 only.
std::unique_ptr<Comm> make_backend_comm(MPI_Comm world, const LinkModel& link, double timeout_s,
                                        DType wire = DType::F32);

// What a run with `weights` sends its all-reduces as: the weights' type in the GPU build, fp32 in
// the CPU build (its activations are fp32 whatever the weights' storage).
DType backend_wire_type(DType weights);

// Whether make_backend_comm(world, ...) runs a thread of its own to progress the all-reduces (the
// CPU build across nodes), which then gets a core of its own (core/cpu_layout.hpp). Collective.
bool backend_has_progress_thread(MPI_Comm world);

// "cpu", or the GPU this rank runs on (name, compute capability, memory).
std::string device_name();

// Name and version of this build's GEMM library and, in the GPU build, NCCL and the CUDA runtime,
// for the results' provenance.
std::vector<std::pair<std::string, std::string>> backend_versions();

}  // namespace lb
