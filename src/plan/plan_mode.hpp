// ladder-bench --plan: one plan per cell of the sweep (batch x prompt length x generated length),
// printed, and written as JSON to --out if given. Runs nothing.
#pragma once

#include "options/bench_options.hpp"

namespace lb {

// Returns the exit code; bad input gives one message and 1.
int run_plan(const BenchOptions& o);

}  // namespace lb
