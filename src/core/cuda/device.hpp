// GPU discovery and selection. Everything here is safe on a machine without a driver or GPU:
// probing returns a reason instead of aborting (libcudart loads libcuda lazily, so a binary that
// links only libcudart starts on any machine).
#pragma once

#include <mpi.h>

#include <string>

namespace lb::cuda {

struct DeviceProbe {
  int count = 0;       // visible devices (after CUDA_VISIBLE_DEVICES); 0 when unavailable
  std::string reason;  // why none is usable, e.g. "cudaErrorInsufficientDriver (...)"; empty if count > 0
};

// cudaGetDeviceCount, with any error turned into a reason. Never throws, never aborts.
DeviceProbe probe_devices();
// probe_devices().count > 0.
bool cuda_available();

// The process's rank among the ranks of its node from the launcher's environment:
// SLURM_LOCALID, OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID (MPICH/Intel MPI), MV2_COMM_WORLD_LOCAL_RANK,
// PMI_LOCAL_RANK, PALS_LOCAL_RANKID (Cray); -1 if none is set.
int local_rank_from_env();
// local_rank_from_env(), else (MPI initialized) the rank in MPI_Comm_split_type(world, SHARED), else 0.
// Collective over `world` when it falls back to MPI: call it on every rank.
int local_rank(MPI_Comm world);

// cudaSetDevice(local_rank % device count) and returns that device. Throws lb::cuda::Error with the
// probe's reason if no device is usable.
int select_device(int local_rank);

// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"; for provenance.
std::string device_description(int device);

// For the app of the LADDERBENCH_CUDA build, to be called after MPI_Init and BEFORE
// Kokkos::initialize: probes (a Kokkos-CUDA binary would otherwise abort inside Kokkos with a
// less helpful message), picks the device of this local rank, makes it current and returns its
// id, to be passed on as Kokkos::InitializationSettings().set_device_id(id). Collective over
// `world` (see local_rank). Throws lb::cuda::Error("no CUDA device: ...") if there is none.
int select_device_before_kokkos(MPI_Comm world);

}  // namespace lb::cuda
