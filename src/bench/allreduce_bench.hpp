// ladder-allreduce: an all-reduce microbenchmark in the nccl-tests mould over the project's own
// communication backend (lb::Comm: MPI + progress thread, optional emulated link), so that the
// collective the model runs can be measured alone, size by size (docs/measurement.md).
//
// Modes (each iteration's time is the slowest rank's, after a barrier):
//   blocking  allreduce(): start, then wait at once — what standard TP does after each module;
//   async     through start_allreduce()/wait() as the ladder schedule uses them, in the OSU
//             non-blocking style: the pure start-then-wait time, a synthetic compute alone
//             (calibrated to --compute-factor x that time), and start + compute + wait; overlap
//             = max(0, 100 (1 - (overall - compute) / pure)).
// Every all-reduce (warm-ups included) reduces inputs whose sum is exact in any order, and its
// result is compared exactly; any wrong element makes the job exit 1.
#pragma once

#include "comm/comm.hpp"
#include "comm/link_model.hpp"
#include "core/types.hpp"

#include <CLI/CLI.hpp>
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

class ResultsFile;

struct AllreduceOptions {
  int64_t minbytes = 8, maxbytes = int64_t(64) << 20;
  int64_t stepfactor = 2;
  int64_t warmup = 5, iters = 20;
  std::string mode = "both";  // blocking | async | both
  double compute_factor = 1.0;
  std::string out;            // empty: log only
  bool overwrite = false;
  bool roofline = false;
  LinkModel link;
  double timeout_s = 300;
};

void add_allreduce_flags(CLI::App& app, AllreduceOptions& o);

// "8", "64K", "64M", "2G" (binary multiples, case-insensitive, as nccl-tests) -> bytes.
// Throws UserError naming the text otherwise (empty, negative, fractions, other suffixes, > 2^62).
int64_t parse_size(const std::string& text);

// minbytes, minbytes*f, ... up to maxbytes, each rounded down to whole floats (nccl-tests' sweep).
// Throws UserError if minbytes < sizeof(real), maxbytes < minbytes or stepfactor < 2.
std::vector<int64_t> size_sweep(int64_t minbytes, int64_t maxbytes, int64_t stepfactor);

// nccl-tests' definitions for all-reduce: algbw = bytes / time; busbw = algbw * 2(n-1)/n, the
// bandwidth each link of a ring needs, comparable across rank counts (0 at one rank).
inline double allreduce_bus_factor(int ranks) { return ranks > 1 ? 2.0 * (ranks - 1) / ranks : 0.0; }
inline double algbw(int64_t bytes, double seconds) { return double(bytes) / seconds; }
inline double busbw(int64_t bytes, double seconds, int ranks) {
  return algbw(bytes, seconds) * allreduce_bus_factor(ranks);
}
// OSU's overlap of a non-blocking collective, clamped to [0, 100] (noise can push it outside).
double overlap_percent(double overall_s, double compute_s, double pure_comm_s);

// The exact-check inputs: rank r contributes (r+1)*(i%7)+r at element i; every partial sum is a
// non-negative integer below 2^24, so float sums are exact in any order (up to max_exact_ranks()).
KOKKOS_INLINE_FUNCTION real allreduce_input(int64_t rank, int64_t i) { return real((rank + 1) * (i % 7) + rank); }
KOKKOS_INLINE_FUNCTION real allreduce_expected(int64_t ranks, int64_t i) {
  return real((i % 7) * (ranks * (ranks + 1) / 2) + ranks * (ranks - 1) / 2);
}
int64_t max_exact_ranks();

// Device kernels (no fence): buf[0, n) = this rank's input; the number of elements of buf[0, n)
// that differ from the sum over `ranks`; a dependent-FMA loop of `reps` steps over v.
void fill_allreduce_input(real* buf, int64_t n, int rank);
int64_t count_allreduce_wrong(const real* buf, int64_t n, int ranks);
void synthetic_compute(const Vec& v, int64_t reps);

// The whole job; collective over `world`. Returns the exit code: 0, or 1 after a user error or
// any wrong element.
int run_allreduce_bench(const AllreduceOptions& o, MPI_Comm world, int argc, char** argv);

}  // namespace lb
