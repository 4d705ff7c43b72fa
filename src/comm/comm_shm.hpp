// The all-reduce of ranks that share one node, through an MPI-3 shared-memory window and completed
// by each rank itself: no progress thread, no peer needed to move anything. start_allreduce copies
// this rank's partial into its slot of the window and publishes a sequence number; wait() sums
// every rank's slot, in rank order, once all of them have published. Nothing runs in between, so
// ladder's next module computes alone on its core and the all-reduce costs what its bytes cost:
// a copy in, and P slots read (docs/measurement.md, "The node-local all-reduce").
#pragma once

#include "comm/comm.hpp"

#include <mpi.h>

#include <memory>

namespace lb {

// Whether every rank of `comm` is on this node (one shared-memory domain as MPI sees it).
// Collective over `comm`; every rank gets the same answer.
bool all_ranks_on_one_node(MPI_Comm comm);

// Every rank of `parent` must be on one node (all_ranks_on_one_node). `timeout_s` > 0: a wait that
// blocks longer (the emulated link's time included) aborts the job with a message naming it.
// Collective over `parent`, as its destruction is.
std::unique_ptr<Comm> make_shm_comm(MPI_Comm parent, const LinkModel& link, double timeout_s);

}  // namespace lb
