// Timing shared by the roofline and the step GEMM calibration: a trial timer (CUDA events on
// Kokkos' stream on a GPU, the host clock around a fence otherwise), trials run on every rank at
// once, and the median of trials.
#pragma once

#include "core/types.hpp"

#ifdef LADDERBENCH_CUDA
#include "core/cuda/stream.hpp"
#endif

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace lb {

#ifdef LADDERBENCH_CUDA
// GPU work timed on the GPU: CUDA events on Kokkos' stream around it, so neither launch latency
// nor the host's wake-up from the fence counts.
class TrialTimer {
 public:
  static const char* name() { return "cuda-events"; }
  void start() { from_.record(ExecSpace().cuda_stream()); }
  double stop() {
    to_.record(ExecSpace().cuda_stream());
    to_.synchronize();
    return double(cuda::Event::elapsed_ms(from_, to_)) * 1e-3;
  }

 private:
  cuda::Event from_{true}, to_{true};
};
#else
class TrialTimer {
 public:
  static const char* name() { return "steady_clock"; }
  void start() { t0_ = std::chrono::steady_clock::now(); }
  double stop() {
    Kokkos::fence();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};
#endif

// Runs `body` once per trial on every rank at once (barrier first) and returns every trial's time,
// each the slowest rank's.
template <class F>
std::vector<double> concurrent_times(MPI_Comm comm, int trials, F&& body) {
  std::vector<double> t(size_t(trials), 0.0);
  TrialTimer timer;
  for (int k = 0; k < trials; ++k) {
    Kokkos::fence();
    MPI_Barrier(comm);
    timer.start();
    body();
    t[size_t(k)] = timer.stop();
  }
  MPI_Allreduce(MPI_IN_PLACE, t.data(), trials, MPI_DOUBLE, MPI_MAX, comm);
  return t;
}

// The best trial's time.
template <class F>
double best_concurrent_time(MPI_Comm comm, int trials, F&& body) {
  const std::vector<double> t = concurrent_times(comm, trials, body);
  return *std::min_element(t.begin(), t.end());
}

// The median trial's time (the mean of the middle two for an even count).
inline double median_of(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  const size_t n = t.size();
  return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

}  // namespace lb
