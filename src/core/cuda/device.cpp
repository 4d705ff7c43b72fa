#include "core/cuda/device.hpp"

#include "core/cuda/check.hpp"
#include "core/node_comm.hpp"

#include <cstdio>

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

int node_local_rank(MPI_Comm world) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return 0;
  return NodeComm(world).rank();
}

std::string duplicate_device_message(const std::vector<std::string>& bus_ids) {
  for (size_t i = 0; i < bus_ids.size(); ++i)
    for (size_t j = i + 1; j < bus_ids.size(); ++j)
      if (bus_ids[i] == bus_ids[j])
        return "node-local ranks " + std::to_string(i) + " and " + std::to_string(j) + " would share the GPU at PCI bus " +
               bus_ids[i] + " (" + std::to_string(bus_ids.size()) +
               " ranks on this node: launch one rank per GPU, with every GPU of the node visible to each rank; "
               "docs/gpu.md)";
  return "";
}

void require_distinct_devices(MPI_Comm world, const std::string& bus_id) {
  const NodeComm node(world);
  const int ranks = node.size();
  // Fixed-width records: bus ids are short ("0000:41:00.0"); a longer one is cut, never overrun.
  constexpr int kWidth = 64;
  char mine[kWidth] = {};
  std::snprintf(mine, sizeof mine, "%s", bus_id.c_str());
  std::vector<char> all(size_t(ranks) * kWidth);
  MPI_Allgather(mine, kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, node.get());
  std::vector<std::string> ids;
  for (int r = 0; r < ranks; ++r) ids.emplace_back(all.data() + size_t(r) * kWidth);
  const std::string here = duplicate_device_message(ids);
  // Every rank of the job learns the verdict, so that all stop together instead of some waiting
  // in the NCCL bootstrap for peers that threw.
  int bad = here.empty() ? 0 : 1, any_bad = 0;
  MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, world);
  if (!here.empty()) throw Error("duplicate GPU: " + here);
  if (any_bad) throw Error("duplicate GPU: two ranks of another node would share a GPU (see that node's message)");
}

std::string pci_bus_id(int device) {
  char id[64] = {};
  LB_CUDA_CHECK(cudaDeviceGetPCIBusId(id, int(sizeof id), device));
  return id;
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
  // Both collectives are reached on every rank, whatever a rank's probe found: a rank without a
  // device reports an empty bus id (never a duplicate) and throws after the exchange.
  const int lr = node_local_rank(world);
  std::string bus_id, no_device;
  int device = -1;
  try {
    device = select_device(lr);
    bus_id = pci_bus_id(device);
  } catch (const Error& e) {
    no_device = e.what();
    bus_id = "(none on node-local rank " + std::to_string(lr) + ")";
  }
  require_distinct_devices(world, bus_id);
  if (device < 0) throw Error(no_device);
  return device;
}

}  // namespace lb::cuda
