// MPI all-reduce with its own progress, for ranks on more than one node (on one node the shared-
// memory all-reduce of comm_shm.hpp needs no progress and costs a fraction of this): OpenMPI 4.1
// moves a nonblocking collective only inside MPI calls, so a communication thread drives each
// all-reduce (MPI_Iallreduce + polling MPI_Test, sleeping between polls so it leaves the core to
// the compute thread it shares it with) and then applies the emulated link delay. The compute
// thread only queues work and waits.
#pragma once

#include "comm/comm.hpp"

#include <mpi.h>

#include <memory>

namespace lb {

// `timeout_s` > 0: a wait that blocks longer aborts the job (MPI_Abort) with a message naming
// the all-reduce, instead of hanging on a dead peer.
std::unique_ptr<Comm> make_mpi_comm(MPI_Comm parent, const LinkModel& link, double timeout_s);

}  // namespace lb
