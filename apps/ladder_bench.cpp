// ladder-bench: Llama inference under tensor parallelism (one MPI rank per shard) in the standard,
// ladder, upper-bound, parallel and hybrid-ladder variants; writes every timing sample to HDF5 and
// prints a speedup table.
//   mpirun -np 2 build/bin/ladder-bench --model demo-cpu --variant all --batch 1,4 --out r.h5
#include "options/bench_options.hpp"
#include "bench/ladder_bench.hpp"
#include "app/mpi_app.hpp"
#include "plan/plan_mode.hpp"

int main(int argc, char** argv) {
  lb::BenchOptions opts;
  lb::MpiApp app;
  app.name = "ladder-bench";
  app.description = "tensor-parallel transformer inference, standard vs ladder residual";
  app.add_flags = [&](CLI::App& cli) { lb::add_bench_flags(cli, opts); };
  app.before_kokkos = [&](MPI_Comm world) -> std::optional<int> {
    if (!opts.plan) return std::nullopt;
    int rank = 0, code = 0;  // --plan is arithmetic on the config: one process answers
    MPI_Comm_rank(world, &rank);
    if (rank == 0) code = lb::run_plan(opts);
    MPI_Bcast(&code, 1, MPI_INT, 0, world);
    return code;
  };
  app.run = [&](MPI_Comm world) { return lb::run_benchmark(opts, world, argc, argv); };
  app.stop_on_signals = true;
  return lb::run_mpi_app(argc, argv, app);
}
