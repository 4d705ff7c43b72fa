// A decode step recorded once and replayed (--cuda-graph): in the GPU build a CUDA graph of every
// kernel, GEMM and collective the step enqueues on the compute stream, so a step costs one launch
// instead of hundreds (the paper's measurements use CUDA graphs). The CPU build has none.
#pragma once

#include <functional>
#include <memory>

namespace lb {

class StepGraph {
 public:
  // Whether this build can capture (the GPU build).
  static bool available();

  StepGraph();
  ~StepGraph();
  StepGraph(StepGraph&&) noexcept;
  StepGraph& operator=(StepGraph&&) noexcept;

  // Records what `body` enqueues (it runs nothing). Everything `body` needs must already be
  // allocated: run the same step eagerly once first.
  void capture(const std::function<void()>& body);
  bool captured() const;
  // Enqueues the recorded step, asynchronously.
  void replay() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lb
