#include "core/cuda/device.hpp"

#include "core/cuda/check.hpp"

#include <cstdio>
#include <cstdlib>

namespace lb::cuda {

DeviceProbe probe_devices() {
  DeviceProbe p;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-less error so later calls start clean
    p.reason = std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
    return p;
  }
  if (n <= 0) {
    p.reason = "cudaGetDeviceCount found no device";
    return p;
  }
  p.count = n;
  return p;
}

bool cuda_available() { return probe_devices().count > 0; }

int local_rank_from_env() {
  for (const char* name : {"SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                           "MV2_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK", "PALS_LOCAL_RANKID"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    char* end = nullptr;
    const long r = std::strtol(v, &end, 10);
    if (end && *end == '\0' && r >= 0) return int(r);
  }
  return -1;
}

int local_rank(MPI_Comm world) {
  const int env = local_rank_from_env();
  if (env >= 0) return env;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return 0;
  MPI_Comm node;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int r = 0;
  MPI_Comm_rank(node, &r);
  MPI_Comm_free(&node);
  return r;
}

int select_device(int local_rank) {
  const DeviceProbe p = probe_devices();
  if (p.count == 0) throw Error("no CUDA device: " + p.reason);
  const int dev = (local_rank < 0 ? 0 : local_rank) % p.count;
  LB_CUDA_CHECK(cudaSetDevice(dev));
  return dev;
}

std::string device_description(int device) {
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    cudaGetLastError();
    return "unknown CUDA device " + std::to_string(device);
  }
  char buf[320];
  std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major, prop.minor,
                double(prop.totalGlobalMem) / double(1ull << 30));
  return buf;
}

int select_device_before_kokkos(MPI_Comm world) {
  // local_rank may be collective: reach it on every rank before anything can throw.
  const int lr = local_rank(world);
  return select_device(lr);
}

}  // namespace lb::cuda
