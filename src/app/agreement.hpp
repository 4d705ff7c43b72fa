// Bad input must stop every rank with one message, never leave some ranks waiting in a collective
// for a rank that already exited. Each validation step runs on every rank; the verdict is agreed
// on with one all-reduce, the lowest failing rank prints the message, and all return false.
#pragma once

#include <mpi.h>

#include <functional>

namespace lb {

bool all_ranks_ok(MPI_Comm comm, const std::function<void()>& step);

}  // namespace lb
