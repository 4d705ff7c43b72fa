// GoogleTest main for every C++ test binary: MPI (with threads, as the app) and Kokkos are
// initialized once. Only rank 0 prints results, so np>1 logs stay readable.
#include "mpi_gtest.hpp"

#include <Kokkos_Core.hpp>

int main(int argc, char** argv) {
  lb::testing::init_mpi_gtest(&argc, argv);
  int failed = 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    failed = RUN_ALL_TESTS();
  }
  // The job fails if any rank failed.
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any;
}
