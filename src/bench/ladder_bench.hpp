// The measurement protocol of ladder-bench (the paper's, section 6 of the spec): for each batch
// size, warm-up generations, then timed generations with the variants interleaved
// (A B C A B C ...) so that drift hits every variant alike; each sample is the max over ranks.
#pragma once

#include "options/bench_options.hpp"

#include <mpi.h>

namespace lb {

// Returns the process exit code: 0, or 1 after a user error that every rank agreed on.
int run_benchmark(const BenchOptions& opts, MPI_Comm world, int argc, char** argv);

}  // namespace lb
