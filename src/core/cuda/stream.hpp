// RAII owners of CUDA streams, events and executable graphs, and a capture helper for the decode
// step: capture once (cudaStreamBeginCapture .. EndCapture, instantiate), then replay with one
// cudaGraphLaunch per step. Destructors never throw (errors there are ignored: the context may
// already be gone at exit).
#pragma once

#include "core/cuda/check.hpp"

#include <functional>
#include <utility>

namespace lb::cuda {

class Stream {
 public:
  // A non-blocking stream (no implicit synchronization with the legacy default stream, without
  // which a separate communication stream could not overlap compute); `priority` as in
  // cudaStreamCreateWithPriority (lower = more urgent; clamped to the device's range).
  explicit Stream(int priority = 0);
  // Highest-priority stream of the current device: for communication, so that collectives are
  // scheduled ahead of queued compute kernels.
  static Stream high_priority();
  ~Stream();
  Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  cudaStream_t get() const { return s_; }
  operator cudaStream_t() const { return s_; }
  void synchronize() const { LB_CUDA_CHECK(cudaStreamSynchronize(s_)); }
  bool capturing() const;

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  // Timing off by default: such events are cheaper and are what cross-stream waits want.
  explicit Event(bool timing = false);
  ~Event();
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&& o) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  cudaEvent_t get() const { return e_; }
  operator cudaEvent_t() const { return e_; }
  void record(cudaStream_t s) const { LB_CUDA_CHECK(cudaEventRecord(e_, s)); }
  // GPU-side wait: work enqueued on `s` afterwards runs after this event's work. Capturable.
  void wait_on(cudaStream_t s) const { LB_CUDA_CHECK(cudaStreamWaitEvent(s, e_, 0)); }
  bool done() const;  // query_event (core/cuda/query.hpp); throws on an error other than cudaErrorNotReady
  void synchronize() const { LB_CUDA_CHECK(cudaEventSynchronize(e_)); }
  // Milliseconds between two recorded timing events.
  static float elapsed_ms(const Event& from, const Event& to);

 private:
  cudaEvent_t e_ = nullptr;
};

// An instantiated CUDA graph.
class Graph {
 public:
  Graph() = default;
  ~Graph();
  Graph(Graph&& o) noexcept : exec_(std::exchange(o.exec_, nullptr)) {}
  Graph& operator=(Graph&& o) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  bool valid() const { return exec_ != nullptr; }
  cudaGraphExec_t get() const { return exec_; }
  void launch(cudaStream_t s) const;

  // Takes ownership of `graph`: updates this executable in place (cudaGraphExecUpdate: same
  // topology, new kernel arguments) when possible, else re-instantiates. Destroys `graph`.
  // Returns true if updated in place.
  bool update_or_instantiate(cudaGraph_t graph);

 private:
  cudaGraphExec_t exec_ = nullptr;
};

// Captures everything `body` enqueues on `stream` (and on streams forked from it with events,
// e.g. a communication stream; they must be joined back before `body` returns) into a graph.
// ThreadLocal mode: other threads (a watchdog polling events) stay unaffected. If `body` throws,
// the capture is ended and discarded and the exception propagates.
cudaGraph_t capture(cudaStream_t stream, const std::function<void()>& body,
                    cudaStreamCaptureMode mode = cudaStreamCaptureModeThreadLocal);

// capture + instantiate.
Graph capture_graph(cudaStream_t stream, const std::function<void()>& body,
                    cudaStreamCaptureMode mode = cudaStreamCaptureModeThreadLocal);

// Re-captures into an existing executable graph (update in place when the topology is unchanged,
// as for decode steps that differ only in kernel arguments).
void recapture(Graph& graph, cudaStream_t stream, const std::function<void()>& body,
               cudaStreamCaptureMode mode = cudaStreamCaptureModeThreadLocal);

// Whether `s` is being captured right now (work on it is then recorded, not run).
bool is_capturing(cudaStream_t s);

}  // namespace lb::cuda
