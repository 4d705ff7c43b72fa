#include "comm/watchdog.hpp"

#include "core/errors.hpp"

#include <mpi.h>
#include <sched.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace lb {
namespace {

using Clock = std::chrono::steady_clock;

struct State {
  std::mutex mutex;
  std::condition_variable changed;
  double timeout_s = 0;
  int rank = 0;
  bool armed = false;
  Clock::time_point since;
  std::string what;
  bool started = false;
};

State& state() {
  static State s;
  return s;
}

// Names what was waited for and ends the whole job. Called with s.mutex held.
[[noreturn]] void abort_job(const State& s) {
  const double waited = std::chrono::duration<double>(Clock::now() - s.since).count();
  std::fprintf(stderr,
               "%s: rank %d: waited %.1f s for %s (limit --timeout-s %.1f): a peer rank died or hangs; "
               "aborting the job\n",
               program_name(), s.rank, waited, s.what.c_str(), s.timeout_s);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::abort();  // MPI_Abort does not return; this says so to the compiler
}

std::chrono::duration<double> limit(const State& s) { return std::chrono::duration<double>(s.timeout_s); }

[[noreturn]] void watch() {
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  for (;;) {
    s.changed.wait_for(lock, std::chrono::milliseconds(100));
    if (s.armed && s.timeout_s > 0 && Clock::now() - s.since > limit(s)) abort_job(s);
  }
}

}  // namespace

void watchdog_start(double timeout_s, int rank) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.timeout_s = timeout_s;
  s.rank = rank;
  if (!s.started && timeout_s > 0) {
    std::thread(watch).detach();  // lives until the process exits
    s.started = true;
  }
}

WatchdogScope::WatchdogScope(std::string what) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.armed = true;
  s.since = Clock::now();
  s.what = std::move(what);
}

void WatchdogScope::spin_until(Clock::time_point until) const {
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  const bool past_limit = s.timeout_s > 0 && until - s.since > limit(s);
  const Clock::time_point wake =
      past_limit ? s.since + std::chrono::duration_cast<Clock::duration>(limit(s)) : until;
  lock.unlock();
  while (Clock::now() < wake) sched_yield();
  if (!past_limit) return;
  lock.lock();
  abort_job(s);
}

WatchdogScope::~WatchdogScope() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.armed = false;
}

}  // namespace lb
