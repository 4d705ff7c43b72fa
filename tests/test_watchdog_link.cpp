// The watchdog bounds the emulated link's time as well as the real all-reduce's: an all-reduce
// whose emulated latency (1 s) exceeds the timeout (0.3 s) must end the job through the watchdog.
// The app refuses such flags up front; this drives a comm directly, past that check, so the bound
// itself is what is tested: argv[1] "mpi" (the progress-thread comm) or "shm" (the shared-memory
// comm). ctest passes it only if the watchdog's message appears and the all-reduce never returned
// (tests/CMakeLists.txt).
#include "comm/comm_mpi.hpp"
#include "comm/comm_shm.hpp"

#include <Kokkos_Core.hpp>
#include <mpi.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    lb::LinkModel link;
    link.latency_us = 1e6;
    const bool shm = argc > 1 && std::string(argv[1]) == "shm";
    auto comm = shm ? lb::make_shm_comm(MPI_COMM_WORLD, link, 0.3) : lb::make_mpi_comm(MPI_COMM_WORLD, link, 0.3);
    std::vector<lb::real> buf(16, 1);
    comm->allreduce(buf.data(), buf.size());
    std::printf("rank %d: the all-reduce returned after its emulated second: the watchdog did not end it\n",
                comm->rank());
  }
  MPI_Finalize();
  return 1;
}
