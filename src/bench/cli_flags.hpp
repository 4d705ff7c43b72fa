// Flags and validators shared by the apps. CLI11's PositiveNumber/NonNegativeNumber print a double
// range up to 1.8e308; these validators say plainly what was expected and what was found.
#pragma once

#include "comm/link_model.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace lb {

inline CLI::Validator at_least(double min, const char* what) {
  return CLI::Validator(
      [min, what](std::string& s) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(s, &used);
        } catch (const std::exception&) {
        }
        if (used != s.size() || s.empty() || !(v >= min)) return std::string("must be ") + what + ", found \"" + s + "\"";
        return {};
      },
      what);
}

inline const CLI::Validator kPositive = at_least(1, "a positive integer");
inline const CLI::Validator kNonNegative = at_least(0, "a number >= 0");

// The emulated link and the watchdog: every app that communicates takes them, with one meaning.
inline void add_comm_flags(CLI::App& app, LinkModel& link, double& timeout_s) {
  app.add_option("--link-latency-us", link.latency_us, "emulated link: latency added to every all-reduce (us)")
      ->check(kNonNegative)
      ->capture_default_str();
  app.add_option("--link-bandwidth-gbps", link.bandwidth_gbps,
                 "emulated link: bandwidth in Gbit/s, adds 2(P-1)/P*bytes/bandwidth per all-reduce (0 = off)")
      ->check(kNonNegative)
      ->capture_default_str();
  app.add_option("--timeout-s", timeout_s,
                 "watchdog: abort the job if an all-reduce, barrier or reduction blocks longer than this (0 = never)")
      ->check(kNonNegative)
      ->capture_default_str();
}

}  // namespace lb
