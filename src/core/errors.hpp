// Errors caused by what the user gave us (flags, files, configs). The app prints their message as
// the one line that names the problem and exits non-zero on every rank; anything else is a bug.
#pragma once

#include <stdexcept>
#include <string>

namespace lb {

// The name messages start with ("ladder-bench", "ladder-allreduce"); set once in main().
inline const char*& program_name() {
  static const char* name = "ladderbench";
  return name;
}

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace lb
