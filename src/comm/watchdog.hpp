// No collective or wait may block longer than --timeout-s. The thread about to block arms the
// watchdog with a description of what it waits for; if it is still blocked when the time is up,
// the watchdog names it on stderr and aborts the whole job (MPI_Abort), instead of letting a dead
// or hung peer rank burn the allocation.
#pragma once

#include <chrono>
#include <string>

namespace lb {

// Sets the limit (seconds; 0 disables) and starts the watchdog thread on first use.
void watchdog_start(double timeout_s, int rank);

class WatchdogScope {
 public:
  explicit WatchdogScope(std::string what);
  ~WatchdogScope();
  // Polls the clock until `until`, yielding the core to any other runnable thread at each poll,
  // unless that is past the limit: then this thread itself ends the job at the limit, as the
  // watchdog would. A known wait (the emulated link's) must not rely on the watchdog thread being
  // scheduled in time: on a loaded node the waiter can get there first. Why not sleep: the wait
  // it emulates polls (MPI_Wait, cudaStreamSynchronize's default), and a thread that sleeps wakes
  // late and leaves its core idle, which a VM's host may give to other work in the meantime.
  void spin_until(std::chrono::steady_clock::time_point until) const;
  WatchdogScope(const WatchdogScope&) = delete;
  WatchdogScope& operator=(const WatchdogScope&) = delete;
};

}  // namespace lb
