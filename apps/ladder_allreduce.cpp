// ladder-allreduce: all-reduce microbenchmark (nccl-tests style) over the project's own
// communication backend, with an exact check of every result (docs/measurement.md).
//   mpirun -np 2 build/bin/ladder-allreduce -b 8 -e 64M -f 2 --out allreduce.h5
#include "allreduce/allreduce_bench.hpp"
#include "app/mpi_app.hpp"

int main(int argc, char** argv) {
  lb::AllreduceOptions opts;
  lb::MpiApp app;
  app.name = "ladder-allreduce";
  app.description = "all-reduce bandwidth, latency and overlap of ladderbench's communication backend";
  app.add_flags = [&](CLI::App& cli) { lb::add_allreduce_flags(cli, opts); };
  app.run = [&](MPI_Comm world) { return lb::run_allreduce_bench(opts, world, argc, argv); };
  app.stop_on_signals = true;
  return lb::run_mpi_app(argc, argv, app);
}
