// A hook on forward's modules, so that timing (the --breakdown profile, bench/module_profile.hpp)
// stays out of the schedule. Module indices are Schedule's: 2 * layer + (0 attention | 1 MLP).
#pragma once

#include <cstdint>

namespace lb {

class ModuleObserver {
 public:
  virtual ~ModuleObserver() = default;
  // Around a module's own kernels (norm, projections, attention or MLP body).
  virtual void compute_begin(int64_t module) = 0;
  virtual void compute_end(int64_t module) = 0;
  // Around the wait for a module's all-reduce, just before its output is added to the stream.
  virtual void wait_begin(int64_t module) = 0;
  virtual void wait_end(int64_t module) = 0;
};

}  // namespace lb
