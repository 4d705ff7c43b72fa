// Per-module time of forward passes (the --breakdown mode), accumulated while attached to the
// model: index 2*layer + module (0 = attention, 1 = MLP). `compute_s` is the module's own kernels;
// `wait_s` is the time the compute thread blocked waiting for that module's all-reduce:
// communication that was not hidden. Fences around each module make the split exact, at the price
// of the overlap that asynchronous kernel launches would give on a GPU.
#pragma once

#include "core/types.hpp"
#include "model/module_observer.hpp"

#include <chrono>
#include <vector>

namespace lb {

class ModuleProfile final : public ModuleObserver {
 public:
  std::vector<double> compute_s, wait_s;

  void reset(int64_t layers) {
    compute_s.assign(size_t(2 * layers), 0.0);
    wait_s.assign(size_t(2 * layers), 0.0);
  }
  void compute_begin(int64_t) override {
    ExecSpace().fence();  // what was launched before is not this module's
    t0_ = now_s();
  }
  void compute_end(int64_t module) override {
    ExecSpace().fence();
    compute_s[size_t(module)] += now_s() - t0_;
  }
  // The stream is idle here (compute_end fenced it): no fence before the wait.
  void wait_begin(int64_t) override { t0_ = now_s(); }
  void wait_end(int64_t module) override {
    // On a GPU the wait is a stream-side dependency: the fence returns when the all-reduce has
    // completed, as the CPU's wait does.
    ExecSpace().fence();
    wait_s[size_t(module)] += now_s() - t0_;
  }

 private:
  static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  double t0_ = 0;
};

}  // namespace lb
