// ladder-allreduce: an all-reduce microbenchmark in the nccl-tests mould over the project's own
// communication backend (lb::Comm: shared memory on one node, MPI + progress thread across nodes;
// optional emulated link), so that the collective the model runs can be measured alone, size by
// size (docs/measurement.md).
//
// Modes (each iteration's time is the slowest rank's, after a barrier):
//   blocking  allreduce(): start, then wait at once — what standard TP does after each module;
//   async     through start_allreduce()/wait() as the ladder schedule uses them, in the OSU
//             non-blocking style: the pure start-then-wait time, a synthetic compute alone
//             (calibrated to --compute-factor x that time), and start + compute + wait; overlap
//             = max(0, 100 (1 - (overall - compute) / pure));
//   mpi       the MPI library's own blocking MPI_Allreduce of the same buffers: the floor.
// Every all-reduce (warm-ups included) reduces inputs whose sum is exact in any order, and its
// result is compared exactly; any wrong element makes the job exit 1.
#pragma once

#include "options/allreduce_options.hpp"

#include <mpi.h>

namespace lb {

// The whole job; collective over `world`. Returns the exit code: 0, or 1 after a user error or
// any wrong element.
int run_allreduce_bench(const AllreduceOptions& o, MPI_Comm world, int argc, char** argv);

}  // namespace lb
