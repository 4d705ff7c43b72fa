// Flag validators shared by the apps. CLI11's PositiveNumber/NonNegativeNumber print a double range
// up to 1.8e308; these say plainly what was expected and what was found.
#pragma once

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

}  // namespace lb
