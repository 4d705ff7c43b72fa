#include "allreduce/allreduce_sweep.hpp"

#include "allreduce/allreduce_check.hpp"
#include "measure/stats.hpp"

#include <algorithm>
#include <chrono>

namespace lb {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

void ModeResult::add_times(int64_t b, int64_t wrong_elements, const std::vector<double>& t, int ranks) {
  bytes.push_back(b);
  count.push_back(b / int64_t(sizeof(real)));
  wrong.push_back(wrong_elements);
  const Summary s = summarize(t);
  p50.push_back(s.median);
  p95.push_back(s.p95);
  min.push_back(s.min);
  algbw.push_back(lb::algbw(b, s.median));
  busbw.push_back(lb::busbw(b, s.median, ranks));
  samples.insert(samples.end(), t.begin(), t.end());
}

Sweep::Sweep(const AllreduceOptions& o, MPI_Comm world, Comm& comm, int64_t max_count)
    : o_(o), world_(world), comm_(comm), buf_(Kokkos::view_alloc(Kokkos::WithoutInitializing, "allreduce_buf"), max_count),
      scratch_("synthetic_compute", 1024) {
  MPI_Comm_rank(world, &rank_);
  MPI_Comm_size(world, &size_);
  Kokkos::deep_copy(scratch_, real(1));
}

// One all-reduce of n elements on fresh inputs: fill, barrier, time `op`, check.
// Returns this rank's time; adds the wrong elements to `wrong`.
template <class Op>
double Sweep::iteration(int64_t n, int64_t& wrong, Op&& op) {
  fill_allreduce_input(buf_.data(), n, rank_);
  Kokkos::fence();
  MPI_Barrier(world_);
  const auto t0 = Clock::now();
  op();
  // A backend may complete the wait on the device only (NCCL: a stream-side wait); the host
  // sees the result after a fence, as it would any kernel's output.
  Kokkos::fence();
  const double t = seconds_since(t0);
  wrong += count_allreduce_wrong(buf_.data(), n, size_);
  return t;
}

// The slowest rank's time of each iteration, and the wrong elements summed over ranks.
void Sweep::reduce(std::vector<double>& t, int64_t& wrong) {
  MPI_Allreduce(MPI_IN_PLACE, t.data(), int(t.size()), MPI_DOUBLE, MPI_MAX, world_);
  MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT64_T, MPI_SUM, world_);
}

// The MPI library's blocking all-reduce of the same buffer, timed alike: what a plain MPI_Allreduce
// loop costs in the same minutes, the floor the backend's blocking mode is held to.
void Sweep::mpi(int64_t bytes, ModeResult& out) {
  const int64_t n = bytes / int64_t(sizeof(real));
  int64_t wrong = 0;
  const auto op = [&] { MPI_Allreduce(MPI_IN_PLACE, buf_.data(), int(n), MPI_FLOAT, MPI_SUM, world_); };
  for (int64_t w = 0; w < o_.warmup; ++w) iteration(n, wrong, op);
  std::vector<double> t(size_t(o_.iters));
  for (auto& s : t) s = iteration(n, wrong, op);
  reduce(t, wrong);
  out.add_times(bytes, wrong, t, size_);
}

void Sweep::blocking(int64_t bytes, ModeResult& out) {
  const int64_t n = bytes / int64_t(sizeof(real));
  int64_t wrong = 0;
  double started = 0;  // the last iteration's time inside start_allreduce
  const auto op = [&] {
    const auto t0 = Clock::now();
    const Comm::Ticket ticket = comm_.start_allreduce(buf_.data(), size_t(n));
    started = seconds_since(t0);
    comm_.wait(ticket);
  };
  for (int64_t w = 0; w < o_.warmup; ++w) iteration(n, wrong, op);
  std::vector<double> t(size_t(o_.iters)), start_t(size_t(o_.iters));
  for (size_t k = 0; k < t.size(); ++k) {
    t[k] = iteration(n, wrong, op);
    start_t[k] = started;
  }
  MPI_Allreduce(MPI_IN_PLACE, start_t.data(), int(start_t.size()), MPI_DOUBLE, MPI_MAX, world_);
  reduce(t, wrong);
  out.add_times(bytes, wrong, t, size_);
  out.start_p50.push_back(quantile(start_t, 0.5));
}

void Sweep::async(int64_t bytes, ModeResult& out) {
  const int64_t n = bytes / int64_t(sizeof(real));
  int64_t wrong = 0;
  const auto pure = [&] {
    const Comm::Ticket ticket = comm_.start_allreduce(buf_.data(), size_t(n));
    comm_.wait(ticket);
  };
  for (int64_t w = 0; w < o_.warmup; ++w) iteration(n, wrong, pure);
  std::vector<double> t(size_t(o_.iters));
  for (auto& s : t) s = iteration(n, wrong, pure);
  MPI_Allreduce(MPI_IN_PLACE, t.data(), int(t.size()), MPI_DOUBLE, MPI_MAX, world_);

  // The same amount of compute on every rank, lasting about compute_factor x the pure time on the
  // slowest rank (the fewest steps any rank calibrated to).
  int64_t reps = calibrate(o_.compute_factor * quantile(t, 0.5));
  MPI_Allreduce(MPI_IN_PLACE, &reps, 1, MPI_INT64_T, MPI_MIN, world_);
  // Fences only the compute's execution space instance (a device backend's all-reduce runs on
  // its own stream and is waited for by wait() and the iteration's global fence).
  const auto compute = [&] {
    synthetic_compute(scratch_, reps);
    ExecSpace().fence();
  };
  std::vector<double> compute_t(size_t(o_.iters)), overall_t(size_t(o_.iters));
  for (auto& s : compute_t) {
    Kokkos::fence();
    MPI_Barrier(world_);
    const auto t0 = Clock::now();
    compute();
    s = seconds_since(t0);
  }
  const auto overlapped = [&] {
    const Comm::Ticket ticket = comm_.start_allreduce(buf_.data(), size_t(n));
    compute();
    comm_.wait(ticket);
  };
  for (int64_t w = 0; w < std::min<int64_t>(o_.warmup, 2); ++w) iteration(n, wrong, overlapped);
  for (auto& s : overall_t) s = iteration(n, wrong, overlapped);

  MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT64_T, MPI_SUM, world_);
  MPI_Allreduce(MPI_IN_PLACE, compute_t.data(), int(compute_t.size()), MPI_DOUBLE, MPI_MAX, world_);
  MPI_Allreduce(MPI_IN_PLACE, overall_t.data(), int(overall_t.size()), MPI_DOUBLE, MPI_MAX, world_);
  out.add_times(bytes, wrong, t, size_);
  out.compute_samples.insert(out.compute_samples.end(), compute_t.begin(), compute_t.end());
  out.overall_samples.insert(out.overall_samples.end(), overall_t.begin(), overall_t.end());
  out.compute_p50.push_back(quantile(compute_t, 0.5));
  out.overall_p50.push_back(quantile(overall_t, 0.5));
  out.overlap.push_back(overlap_percent(out.overall_p50.back(), out.compute_p50.back(), out.p50.back()));
  out.compute_reps.push_back(reps);
}

// Steps of the synthetic compute that take about `target_s` on this rank. Each round times 3
// runs and keeps the fastest (an interrupted run only ever takes longer), then rescales.
int64_t Sweep::calibrate(double target_s) {
  int64_t reps = 16;
  for (int round = 0; round < 8; ++round) {
    double best = 1e30;
    for (int k = 0; k < 3; ++k) {
      const auto t0 = Clock::now();
      synthetic_compute(scratch_, reps);
      ExecSpace().fence();
      best = std::min(best, seconds_since(t0));
    }
    const double ratio = target_s / std::max(best, 1e-9);
    if (ratio > 0.9 && ratio < 1.1) break;
    reps = std::max<int64_t>(1, int64_t(double(reps) * std::min(ratio, 1000.0)));
  }
  return reps;
}

}  // namespace lb
