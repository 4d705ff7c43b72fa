// ladder-allreduce: all-reduce microbenchmark (nccl-tests style) over the project's own
// communication backend, with an exact check of every result (docs/measurement.md).
//   mpirun -np 2 build/bin/ladder-allreduce -b 8 -e 64M -f 2 --out allreduce.h5
#include "allreduce_bench.hpp"

#include <Kokkos_Core.hpp>
#include <mpi.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  int provided = 0;
  // The communication thread makes MPI calls while the main thread does too (barriers, timing).
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (provided < MPI_THREAD_MULTIPLE) {
    if (rank == 0) std::fprintf(stderr, "ladder-allreduce: error: the MPI library does not provide MPI_THREAD_MULTIPLE\n");
    MPI_Finalize();
    return 1;
  }

  lb::AllreduceOptions opts;
  CLI::App app{"ladder-allreduce: all-reduce bandwidth, latency and overlap of ladderbench's communication backend"};
  lb::add_allreduce_flags(app, opts);
  int code = 0;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parsed the same argv and reached the same verdict; rank 0 says so.
    const bool help = e.get_exit_code() == 0;
    if (rank == 0) {
      if (help)
        app.exit(e);
      else
        std::fprintf(stderr, "ladder-allreduce: error: %s\nRun with --help for the list of flags.\n", e.what());
    }
    MPI_Finalize();
    return help ? 0 : 1;
  }

  try {
    Kokkos::ScopeGuard kokkos(argc, argv);
    code = lb::run_allreduce_bench(opts, MPI_COMM_WORLD, argc, argv);
  } catch (const std::exception& e) {
    // Not a validated user error: an I/O failure or a bug. Take every rank down rather than hang.
    std::fprintf(stderr, "ladder-allreduce: rank %d: fatal: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  MPI_Finalize();
  return code;
}
