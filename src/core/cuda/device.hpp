// GPU discovery and selection. Everything here is safe on a machine without a driver or GPU:
// probing returns a reason instead of aborting (libcudart loads libcuda lazily, so a binary that
// links only libcudart starts on any machine).
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace lb::cuda {

struct DeviceProbe {
  int count = 0;       // visible devices (after CUDA_VISIBLE_DEVICES); 0 when unavailable
  std::string reason;  // why none is usable, e.g. "cudaErrorInsufficientDriver (...)"; empty if count > 0
};

// cudaGetDeviceCount, with any error turned into a reason. Never throws, never aborts.
DeviceProbe probe_devices();
// probe_devices().count > 0.
bool cuda_available();

// This process's index among the ranks of its node: its rank in MPI_Comm_split_type(world, SHARED).
// The launcher's variables (SLURM_LOCALID, OMPI_COMM_WORLD_LOCAL_RANK, ...) are not used: under
// `mpirun` inside an sbatch allocation every rank inherits the batch step's SLURM_LOCALID=0, and
// all of them would pick GPU 0. 0 if MPI is not (or no longer) initialized. Collective over `world`.
int node_local_rank(MPI_Comm world);

// Why ranks of one node may not run on the devices they picked: "" if the PCI bus ids (indexed by
// node-local rank) are distinct, else a message naming the first two ranks sharing a device.
std::string duplicate_device_message(const std::vector<std::string>& bus_ids_by_local_rank);

// Collective over `world`: gathers every node-local rank's `bus_id` on its node and throws
// lb::cuda::Error on every rank of the job if two ranks of any node share a device (NCCL would
// fail with "Duplicate GPU detected", or the ranks would share its memory). A rank whose node is
// fine says that another node was not.
void require_distinct_devices(MPI_Comm world, const std::string& bus_id);

// "0000:41:00.0" (cudaDeviceGetPCIBusId): what identifies a GPU across ranks whatever
// CUDA_VISIBLE_DEVICES each rank sees.
std::string pci_bus_id(int device);

// cudaSetDevice(local_rank % device count) and returns that device. Throws lb::cuda::Error with the
// probe's reason if no device is usable.
int select_device(int local_rank);

// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"; for provenance.
std::string device_description(int device);

// For the app of the LADDERBENCH_CUDA build, to be called after MPI_Init and BEFORE
// Kokkos::initialize: probes (a Kokkos-CUDA binary would otherwise abort inside Kokkos with a
// less helpful message), picks the device of this local rank, makes it current and returns its
// id, to be passed on as Kokkos::InitializationSettings().set_device_id(id). Collective over
// `world` (node_local_rank, require_distinct_devices). Throws lb::cuda::Error("no CUDA device: ...")
// if there is none, and on every rank if two ranks of a node would share a GPU.
int select_device_before_kokkos(MPI_Comm world);

}  // namespace lb::cuda
