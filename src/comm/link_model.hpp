#pragma once

#include "core/errors.hpp"

#include <cstddef>
#include <sstream>
#include <string>

namespace lb {

// An emulated interconnect: every all-reduce additionally takes
// latency + 2 (P-1)/P * bytes / bandwidth (the ring all-reduce cost model; bandwidth in Gbit/s,
// 0 = no bandwidth term). Applied inside the communication path, so it overlaps exactly where
// the schedule lets the real all-reduce overlap. Off when both are 0, and for a single rank.
struct LinkModel {
  // What the flags accept (cli_flags.hpp). A latency beyond a second or a bandwidth under
  // 1 Mbit/s emulates no interconnect anyone runs TP over, and a tiny bandwidth would overflow the
  // delay into nonsense; above 100 Tbit/s the term is far below what the real all-reduce costs.
  static constexpr double kMaxLatencyUs = 1e6;
  static constexpr double kMinBandwidthGbps = 1e-3;
  static constexpr double kMaxBandwidthGbps = 1e5;

  double latency_us = 0;
  double bandwidth_gbps = 0;
  bool enabled() const { return latency_us > 0 || bandwidth_gbps > 0; }
  double delay_s(size_t bytes, int ranks) const {
    if (!enabled() || ranks <= 1) return 0;
    const double ring_bytes = 2.0 * (ranks - 1) / ranks * double(bytes);
    const double bw_term = bandwidth_gbps > 0 ? ring_bytes * 8 / (bandwidth_gbps * 1e9) : 0;
    return latency_us * 1e-6 + bw_term;
  }
};

// The watchdog bounds every wait for an all-reduce, its emulated time included. A largest
// all-reduce (`bytes`; `what` says which) whose emulated time alone exceeds --timeout-s could only
// end in the watchdog's abort, so it is refused before the run, naming the flags to change.
inline void check_link_within_timeout(const LinkModel& link, double timeout_s, size_t bytes, int ranks,
                                      const std::string& what) {
  const double delay = link.delay_s(bytes, ranks);
  if (timeout_s <= 0 || delay <= timeout_s) return;
  std::ostringstream m;
  m << "--link-latency-us " << link.latency_us << " and --link-bandwidth-gbps " << link.bandwidth_gbps << " make "
    << what << " (" << bytes << " bytes over " << ranks << " ranks) take " << delay
    << " s on the emulated link alone, longer than --timeout-s " << timeout_s
    << ": the watchdog would end the run (raise --timeout-s, or lower the latency or raise the bandwidth)";
  throw UserError(m.str());
}

}  // namespace lb
