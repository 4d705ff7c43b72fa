#include "app/mpi_app.hpp"

#include "core/cpu_layout.hpp"
#include "core/errors.hpp"
#include "core/node_comm.hpp"
#include "kernels/gemm.hpp"
#include "app/agreement.hpp"
#include "app/stop_signal.hpp"
#include "comm/comm_backend.hpp"

#include <Kokkos_Core.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef LADDERBENCH_CUDA
#include "core/cuda/device.hpp"
#endif

#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

namespace lb {
namespace {

// Ranks of this node (itself included) whose affinity masks share a core with `cpus`, this rank's.
int ranks_sharing_cpus(MPI_Comm world, const std::vector<int>& cpus) {
  const NodeComm node(world);
  constexpr int kWords = 1024 / 64;  // CPU_SETSIZE bits
  uint64_t mine[kWords] = {};
  for (const int c : cpus)
    if (c < 1024) mine[c / 64] |= uint64_t(1) << (c % 64);
  std::vector<uint64_t> all(size_t(node.size()) * kWords);
  MPI_Allgather(mine, kWords, MPI_UINT64_T, all.data(), kWords, MPI_UINT64_T, node.get());
  int sharing = 0;
  for (int r = 0; r < node.size(); ++r) {
    bool overlap = false;
    for (int w = 0; w < kWords; ++w) overlap = overlap || (all[size_t(r) * kWords + w] & mine[w]) != 0;
    sharing += overlap ? 1 : 0;
  }
  return sharing;
}

}  // namespace

int run_mpi_app(int argc, char** argv, const MpiApp& a) {
  program_name() = a.name;
  restart_for_blas_kernels(argv);
  int provided = 0;
  // The communication thread makes MPI calls while the main thread may too (barriers, timing).
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (provided < MPI_THREAD_MULTIPLE) {
    if (rank == 0) std::fprintf(stderr, "%s: error: the MPI library does not provide MPI_THREAD_MULTIPLE\n", a.name);
    MPI_Finalize();
    return 1;
  }

  CLI::App cli{std::string(a.name) + ": " + a.description};
  a.add_flags(cli);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parsed the same argv and reached the same verdict; rank 0 says so.
    const bool help = e.get_exit_code() == 0;
    if (rank == 0) {
      if (help)
        cli.exit(e);
      else
        std::fprintf(stderr, "%s: error: %s\nRun with --help for the list of flags.\n", a.name, e.what());
    }
    MPI_Finalize();
    return help ? 0 : 1;
  }

  // The environment's cap on the host kernels' instruction set (LB_MAX_CPU_ISA): a bad value stops
  // every rank with one message, before anything runs.
  if (!all_ranks_ok(MPI_COMM_WORLD, select_cpu_kernels)) {
    MPI_Finalize();
    return 1;
  }

  int code = 0;
  if (a.before_kokkos) {
    if (const std::optional<int> early = a.before_kokkos(MPI_COMM_WORLD)) {
      MPI_Finalize();
      return *early;
    }
  }
  if (a.stop_on_signals) install_stop_handlers();
  {
    // Cores: the CPU build's all-reduces across nodes have a progress thread (comm/comm_mpi.cpp);
    // it gets a core of its own if the launcher gave the rank two or more.
    const bool progress_thread = backend_has_progress_thread(MPI_COMM_WORLD);
    const std::vector<int> cpus = cpus_of_this_process();
    const CpuLayout layout = plan_cpu_layout(cpus, progress_thread, ranks_sharing_cpus(MPI_COMM_WORLD, cpus));
    apply_cpu_layout(layout);
    set_blas_threads(layout.compute_threads);
#ifdef _OPENMP
    omp_set_num_threads(layout.compute_threads);  // the host GEMM's and Kokkos' (fixed when it starts)
#endif
  }
  try {
#ifdef LADDERBENCH_CUDA
    // A Kokkos-CUDA binary must find a device before Kokkos starts, and each rank takes the GPU
    // of its node-local rank (MPI_Comm_split_type SHARED; core/cuda/device.hpp says why not the
    // launcher's variables).
    const int device = cuda::select_device_before_kokkos(MPI_COMM_WORLD);
    Kokkos::ScopeGuard kokkos(Kokkos::InitializationSettings().set_device_id(device));
#else
    Kokkos::ScopeGuard kokkos(argc, argv);
#endif
    code = a.run(MPI_COMM_WORLD);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: rank %d: fatal: %s\n", a.name, rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  MPI_Finalize();
  return code;
}

}  // namespace lb
