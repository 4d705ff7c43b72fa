// GoogleTest main of the CUDA wrapper tests: MPI with threads (the NCCL communicator's watchdog may
// call MPI_Abort from its thread), no Kokkos (the wrappers do not need it). Only rank 0 prints.
// When every test that ran was skipped (no GPU), prints LADDERBENCH_ALL_SKIPPED, which ctest's
// SKIP_REGULAR_EXPRESSION turns into "skipped"; any failure still fails.
#include "mpi_gtest.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  const int rank = lb::testing::init_mpi_gtest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  const auto* unit = ::testing::UnitTest::GetInstance();
  int any_failed = 0, ran = unit->successful_test_count(), any_ran = 0;  // passed, skipped excluded
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(&ran, &any_ran, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && !any_failed && any_ran == 0 && unit->skipped_test_count() > 0)
    std::printf("LADDERBENCH_ALL_SKIPPED: every test was skipped (see the skip messages above)\n");
  MPI_Finalize();
  return any_failed;
}
