#include "io/job_provenance.hpp"

#include "comm/comm_backend.hpp"
#include "core/cpu_layout.hpp"
#include "core/node_comm.hpp"
#include "kernels/gemm.hpp"
#include "io/provenance.hpp"

#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lb {

void write_job_provenance(ResultsFile* file, MPI_Comm world, const std::string& cmdline, const Comm& comm,
                          const LinkModel& link) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  // Per-rank strings, gathered in fixed 256-byte slots.
  const auto gather = [&](const std::string& mine) {
    std::vector<char> all(size_t(size) * 256, '\0'), me(256, '\0');
    mine.substr(0, 255).copy(me.data(), 255);
    MPI_Gather(me.data(), 256, MPI_CHAR, all.data(), 256, MPI_CHAR, 0, world);
    std::vector<std::string> out;
    for (int r = 0; r < size; ++r) out.emplace_back(&all[size_t(r) * 256]);
    return out;
  };
  const CpuLayout& l = cpu_layout();
#ifdef _OPENMP
  const std::string openmp = ", OpenMP " + std::to_string(omp_get_max_threads());  // the host decode GEMM's
#else
  const std::string openmp;
#endif
  const std::string layout =
      "cpus " + cpu_list(l.cpus) + "; compute threads " + std::to_string(l.compute_threads) + " on " +
      cpu_list(l.compute_cpus) + " (BLAS " + std::to_string(blas_threads()) + openmp + ", Kokkos host " +
      std::to_string(Kokkos::DefaultHostExecutionSpace().concurrency()) + "); " +
      (!l.progress_thread     ? std::string("no progress thread")
       : l.progress_cpu >= 0 ? "progress thread on cpu " + std::to_string(l.progress_cpu)
                             : std::string("progress thread shares them")) +
      (l.ranks_sharing > 1 ? "; the cpus shared by " + std::to_string(l.ranks_sharing) + " ranks (not pinned)" : "");
  const std::vector<std::string> cpu_layouts = gather(layout);
  const std::vector<std::string> kernel_targets = gather(cpu_kernel_target());  // "" in the GPU build
  const std::vector<std::string> hosts = gather(host_name()), cpus = gather(cpu_model()),
                                 transports = gather(comm.transports()), devices = gather(device_name());
  // Nodes as MPI sees them (shared-memory domains), not as hostnames say: two ranks on one machine
  // under different hostnames are still one node to the transports and share its memory bandwidth.
  const int local_rank = NodeComm(world).rank();
  const int64_t mine = local_rank, leader = local_rank == 0 ? 1 : 0;
  int64_t node_count = 0;
  MPI_Allreduce(&leader, &node_count, 1, MPI_INT64_T, MPI_SUM, world);
  std::vector<int64_t> local_ranks(size_t(size), 0);
  MPI_Gather(&mine, 1, MPI_INT64_T, local_ranks.data(), 1, MPI_INT64_T, 0, world);
  if (rank != 0 || !file) return;
  file->set_attr("git_sha", std::string(kGitSha));
  file->set_attr("git_dirty", int64_t(kGitDirty));
  file->set_attr("argv", cmdline);
  file->set_attr("world_size", int64_t(size));
  file->set_attr("hostnames", hosts);
  file->set_attr("node_count", node_count);
  file->set_attr("local_ranks", local_ranks);
  file->set_attr("cpu_layouts", cpu_layouts);
  file->set_attr("cpu_model", cpus.front());
  file->set_attr("cpu_models", cpus);
  if (!kernel_targets.front().empty()) {
    file->set_attr("cpu_kernel_target", kernel_targets.front());
    file->set_attr("cpu_kernel_targets", kernel_targets);
  }
  file->set_attr("backend", comm.name());
  file->set_attr("comm_progress_priority", comm.progress_priority());
  file->set_attr("allreduce_dtype", comm.wire_type());
  file->set_attr("comm_transports", transports);
  file->set_attr("device", devices.front());
  file->set_attr("devices", devices);
  file->set_attr("link_emulated", int64_t(link.enabled()));
  file->set_attr("link_latency_us", link.latency_us);
  file->set_attr("link_bandwidth_gbps", link.bandwidth_gbps);
  file->set_attr("env", relevant_environment_json());
  file->set_attr("versions", library_versions_json(backend_versions()));
}

}  // namespace lb
