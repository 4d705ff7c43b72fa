// The provenance every ladderbench results file carries, written once for all apps.
#pragma once

#include "comm/comm.hpp"
#include "comm/link_model.hpp"
#include "io/results_file.hpp"

#include <mpi.h>

#include <string>

namespace lb {

// Root attributes every ladderbench file carries about where and how it was produced (the same
// names as ladder-bench's: git_sha, git_dirty, argv, world_size, hostnames, cpu_model,
// cpu_kernel_target (the CPU build: the host kernels' instruction set, per rank too), backend,
// comm_progress_priority, comm_transports (per rank), device, link_*, env, versions). Collective (hostnames are gathered);
// `file` is used on rank 0 only.
void write_job_provenance(ResultsFile* file, MPI_Comm world, const std::string& cmdline, const Comm& comm,
                          const LinkModel& link);

}  // namespace lb
