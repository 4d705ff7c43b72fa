// ladder-allreduce's measurement: per message size, the blocking and the asynchronous (OSU
// non-blocking) all-reduce through lb::Comm, and the MPI library's own MPI_Allreduce as the floor,
// each iteration checked exactly and timed as the slowest rank's time after a barrier.
#pragma once

#include "options/allreduce_options.hpp"
#include "comm/comm.hpp"
#include "core/types.hpp"

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// Per size of one mode; samples are [sizes, iters], each the slowest rank's time.
struct ModeResult {
  explicit ModeResult(std::string m) : mode(std::move(m)) {}
  std::string mode;
  std::vector<int64_t> bytes, count, wrong;
  std::vector<double> p50, p95, min, algbw, busbw;
  std::vector<double> samples;
  // blocking only: per size, the median of the slowest rank's time inside start_allreduce (the
  // hand-off to the progress thread or stream), part of the iteration's time
  std::vector<double> start_p50;
  // async only
  std::vector<double> compute_samples, overall_samples, compute_p50, overall_p50, overlap;
  std::vector<int64_t> compute_reps;

  // One size's iteration times (the slowest rank's) and wrong elements (summed over ranks).
  void add_times(int64_t b, int64_t wrong_elements, const std::vector<double>& t, int ranks);
};

class Sweep {
 public:
  // Buffers for messages of up to max_count floats.
  Sweep(const AllreduceOptions& o, MPI_Comm world, Comm& comm, int64_t max_count);
  void mpi(int64_t bytes, ModeResult& out);
  void blocking(int64_t bytes, ModeResult& out);
  void async(int64_t bytes, ModeResult& out);

 private:
  template <class Op>
  double iteration(int64_t n, int64_t& wrong, Op&& op);
  void reduce(std::vector<double>& t, int64_t& wrong);
  int64_t calibrate(double target_s);

  const AllreduceOptions& o_;
  MPI_Comm world_;
  Comm& comm_;
  Vec buf_, scratch_;
  int rank_ = 0, size_ = 1;
};

}  // namespace lb
