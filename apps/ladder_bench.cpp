// ladder-bench: Llama inference under tensor parallelism (one MPI rank per shard) in the standard,
// ladder and upper-bound variants; writes every timing sample to HDF5 and prints a speedup table.
//   mpirun -np 2 build/bin/ladder-bench --model demo-cpu --variant all --batch 1,4 --out r.h5
#include "bench_options.hpp"
#include "benchmark.hpp"
#include "plan.hpp"
#include "stop_signal.hpp"

#include <Kokkos_Core.hpp>
#include <mpi.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  int provided = 0;
  // The communication thread makes MPI calls while the main thread may too (barriers, timing).
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (provided < MPI_THREAD_MULTIPLE) {
    if (rank == 0) std::fprintf(stderr, "ladder-bench: error: the MPI library does not provide MPI_THREAD_MULTIPLE\n");
    MPI_Finalize();
    return 1;
  }

  lb::BenchOptions opts;
  CLI::App app{"ladder-bench: tensor-parallel transformer inference, standard vs ladder residual"};
  lb::add_bench_flags(app, opts);
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
        std::fprintf(stderr, "ladder-bench: error: %s\nRun with --help for the list of flags.\n", e.what());
    }
    MPI_Finalize();
    return help ? 0 : 1;
  }

  if (opts.plan) {  // arithmetic on the config only: one process answers
    if (rank == 0) code = lb::run_plan(opts);
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return code;
  }
  lb::install_stop_handlers();
  try {
    Kokkos::ScopeGuard kokkos(argc, argv);
    code = lb::run_benchmark(opts, MPI_COMM_WORLD, argc, argv);
  } catch (const std::exception& e) {
    // Not a validated user error: an I/O failure or a bug. Take every rank down rather than hang.
    std::fprintf(stderr, "ladder-bench: rank %d: fatal: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  MPI_Finalize();
  return code;
}
