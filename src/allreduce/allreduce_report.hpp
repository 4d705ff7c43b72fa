// ladder-allreduce's two reports of the same ModeResults: the nccl-tests style log (a header that
// echoes every parameter, one row per size, the summary) and the results file's groups and root
// attributes.
#pragma once

#include "options/allreduce_options.hpp"
#include "allreduce/allreduce_sweep.hpp"
#include "comm/comm.hpp"
#include "io/results_file.hpp"

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// Console (rank 0 prints; the header is collective: it gathers every rank's host and pid).
void print_allreduce_header(const AllreduceOptions& o, const Comm& comm, const std::string& cmdline,
                            const std::vector<int64_t>& sizes, MPI_Comm world);
void print_allreduce_columns(const AllreduceOptions& o);
// The last size of each mode, in one row; async's compute/overall/overlap columns if `async_last`.
void print_allreduce_row(const std::vector<const ModeResult*>& modes, bool async_last);
void print_allreduce_summary(const std::vector<const ModeResult*>& modes, int64_t wrong);

// HDF5: the group /allreduce/<mode> of one mode's sizes so far, and the job's root attributes.
GroupRecord mode_record(const ModeResult& m, int ranks, const AllreduceOptions& o);
void store_allreduce_attrs(ResultsFile& file, const AllreduceOptions& o);

}  // namespace lb
