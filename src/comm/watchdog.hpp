// No collective or wait may block longer than --timeout-s. The thread about to block arms the
// watchdog with a description of what it waits for; if it is still blocked when the time is up,
// the watchdog names it on stderr and aborts the whole job (MPI_Abort), instead of letting a dead
// or hung peer rank burn the allocation.
#pragma once

#include <string>

namespace lb {

// Sets the limit (seconds; 0 disables) and starts the watchdog thread on first use.
void watchdog_start(double timeout_s, int rank);

class WatchdogScope {
 public:
  explicit WatchdogScope(std::string what);
  ~WatchdogScope();
  WatchdogScope(const WatchdogScope&) = delete;
  WatchdogScope& operator=(const WatchdogScope&) = delete;
};

}  // namespace lb
