// Flags and validators shared by the apps. CLI11's PositiveNumber/NonNegativeNumber print a double
// range up to 1.8e308 and accept "inf"; these validators say plainly what was expected and what
// was found, and refuse what has no physical meaning (infinities, NaN, values outside the bounds).
#pragma once

#include "comm/link_model.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace lb {

// The whole of `s` as a finite number; false for "", "1x", "inf", "nan".
inline bool parse_finite(const std::string& s, double& v) {
  size_t used = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    return false;
  }
  return !s.empty() && used == s.size() && std::isfinite(v);
}

// A finite number in [min, max], else "must be <what>, found "<s>"".
inline CLI::Validator in_range(double min, double max, const std::string& what) {
  return CLI::Validator(
      [min, max, what](std::string& s) -> std::string {
        double v = 0;
        if (!parse_finite(s, v) || !(v >= min && v <= max)) return "must be " + what + ", found \"" + s + "\"";
        return {};
      },
      what);
}

// 0 (the feature is off) or a finite number in [min, max].
inline CLI::Validator zero_or_in_range(double min, double max, const std::string& what) {
  return CLI::Validator(
      [min, max, what](std::string& s) -> std::string {
        double v = 0;
        if (!parse_finite(s, v) || !(v == 0 || (v >= min && v <= max))) return "must be " + what + ", found \"" + s + "\"";
        return {};
      },
      what);
}

inline CLI::Validator at_least(double min, const char* what) { return in_range(min, HUGE_VAL, what); }

inline const CLI::Validator kPositive = at_least(1, "a positive integer");
inline const CLI::Validator kNonNegative = at_least(0, "a number >= 0");

// A comma list of distinct integers >= `min` ("1,4,16"): an empty element ("1,,2", "1,"), a
// non-integer, a value below `min` or a repeat (the same measurement twice) is refused, never skipped.
inline std::vector<int64_t> parse_int_list(const std::string& s, int64_t min) {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  size_t begin = 0;
  for (;;) {
    const size_t end = std::min(s.find(',', begin), s.size());
    const std::string item = s.substr(begin, end - begin);
    if (item.empty()) throw CLI::ValidationError("empty element in the comma list \"" + s + "\"");
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
    }
    if (used != item.size() || v < min)
      throw CLI::ValidationError("\"" + item + "\" in \"" + s + "\" is not an integer >= " + std::to_string(min));
    if (!seen.insert(v).second) throw CLI::ValidationError("\"" + item + "\" is listed twice in \"" + s + "\"");
    out.push_back(v);
    if (end == s.size()) return out;
    begin = end + 1;
  }
}

inline CLI::Option* add_int_list_option(CLI::App& app, const std::string& name, std::vector<int64_t>& target,
                                        int64_t min, const std::string& help) {
  std::string shown;
  for (const int64_t v : target) shown += (shown.empty() ? "" : ",") + std::to_string(v);
  return app
      .add_option_function<std::string>(
          name, [&target, min](const std::string& s) { target = parse_int_list(s, min); }, help)
      ->check(CLI::Validator(
          [min](std::string& s) -> std::string {
            try {
              parse_int_list(s, min);
            } catch (const CLI::ValidationError& e) {
              return e.what();
            }
            return {};
          },
          "N[,N...]"))
      ->default_str(shown);
}

// The emulated link and the watchdog: every app that communicates takes them, with one meaning.
// The link's bounds (link_model.hpp) keep the emulation physical: no latency beyond a second, no
// bandwidth so small that one all-reduce would take hours, nor so large it means nothing.
inline void add_comm_flags(CLI::App& app, LinkModel& link, double& timeout_s) {
  app.add_option("--link-latency-us", link.latency_us, "emulated link: latency added to every all-reduce (us, 0 = off)")
      ->check(in_range(0, LinkModel::kMaxLatencyUs, "a latency in us from 0 (off) to 1000000 (1 s)"))
      ->capture_default_str();
  app.add_option("--link-bandwidth-gbps", link.bandwidth_gbps,
                 "emulated link: bandwidth in Gbit/s, adds 2(P-1)/P*bytes/bandwidth per all-reduce (0 = off)")
      ->check(zero_or_in_range(LinkModel::kMinBandwidthGbps, LinkModel::kMaxBandwidthGbps,
                               "a bandwidth in Gbit/s from 0.001 to 100000, or 0 (off)"))
      ->capture_default_str();
  app.add_option("--timeout-s", timeout_s,
                 "watchdog: abort the job if an all-reduce (with its emulated link time), barrier or reduction "
                 "blocks longer than this (0 = never)")
      ->check(kNonNegative)
      ->capture_default_str();
}

}  // namespace lb
