#include "comm/watchdog.hpp"

#include "core/errors.hpp"

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
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

[[noreturn]] void watch() {
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  for (;;) {
    s.changed.wait_for(lock, std::chrono::milliseconds(100));
    if (!s.armed || s.timeout_s <= 0) continue;
    const double waited = std::chrono::duration<double>(Clock::now() - s.since).count();
    if (waited > s.timeout_s) {
      std::fprintf(stderr,
                   "%s: rank %d: waited %.1f s for %s (limit --timeout-s %.1f): a peer rank died or hangs; "
                   "aborting the job\n",
                   program_name(), s.rank, waited, s.what.c_str(), s.timeout_s);
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
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

WatchdogScope::~WatchdogScope() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.armed = false;
}

}  // namespace lb
