// The MPI part of every GoogleTest main: MPI with threads (as the apps: the progress thread and
// the NCCL watchdog call MPI), and only rank 0 prints results, so np>1 logs stay readable.
// Header-only, so test binaries that do not link the project's core (tests/cuda) share it too.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

namespace lb::testing {

// Initializes MPI and GoogleTest; returns this process's rank.
inline int init_mpi_gtest(int* argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  ::testing::InitGoogleTest(argc, argv);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  return rank;
}

}  // namespace lb::testing
