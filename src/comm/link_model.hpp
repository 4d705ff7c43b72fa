#pragma once

#include <cstddef>

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

}  // namespace lb
