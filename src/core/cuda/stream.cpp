#include "core/cuda/stream.hpp"

#include "core/cuda/query.hpp"

#include <algorithm>

namespace lb::cuda {

Stream::Stream(int priority) {
  int least = 0, greatest = 0;
  LB_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  // Numerically, greatest <= least (e.g. -5 .. 0).
  priority = std::clamp(priority, greatest, least);
  LB_CUDA_CHECK(cudaStreamCreateWithPriority(&s_, cudaStreamNonBlocking, priority));
}

Stream Stream::high_priority() {
  int least = 0, greatest = 0;
  LB_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  return Stream(greatest);
}

Stream::~Stream() {
  if (s_) cudaStreamDestroy(s_);
}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    if (s_) cudaStreamDestroy(s_);
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

bool Stream::capturing() const { return is_capturing(s_); }

Event::Event(bool timing) {
  LB_CUDA_CHECK(cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming));
}

Event::~Event() {
  if (e_) cudaEventDestroy(e_);
}

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    if (e_) cudaEventDestroy(e_);
    e_ = std::exchange(o.e_, nullptr);
  }
  return *this;
}

bool Event::done() const {
  const cudaError_t e = query_event(e_);
  if (e == cudaErrorNotReady) return false;
  LB_CUDA_CHECK(e);
  return true;
}

float Event::elapsed_ms(const Event& from, const Event& to) {
  float ms = 0;
  LB_CUDA_CHECK(cudaEventElapsedTime(&ms, from.e_, to.e_));
  return ms;
}

Graph::~Graph() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

Graph& Graph::operator=(Graph&& o) noexcept {
  if (this != &o) {
    if (exec_) cudaGraphExecDestroy(exec_);
    exec_ = std::exchange(o.exec_, nullptr);
  }
  return *this;
}

void Graph::launch(cudaStream_t s) const {
  if (!exec_) throw Error("lb::cuda::Graph::launch: no graph was instantiated");
  LB_CUDA_CHECK(cudaGraphLaunch(exec_, s));
}

bool Graph::update_or_instantiate(cudaGraph_t graph) {
  struct Owner {
    cudaGraph_t g;
    ~Owner() { cudaGraphDestroy(g); }
  } owner{graph};
  if (exec_) {
    cudaGraphExecUpdateResultInfo info{};
    if (cudaGraphExecUpdate(exec_, graph, &info) == cudaSuccess) return true;
    cudaGetLastError();  // topology changed: fall through to a fresh instantiation
    cudaGraphExecDestroy(exec_);
    exec_ = nullptr;
  }
  LB_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph, 0));
  return false;
}

cudaGraph_t capture(cudaStream_t stream, const std::function<void()>& body, cudaStreamCaptureMode mode) {
  LB_CUDA_CHECK(cudaStreamBeginCapture(stream, mode));
  try {
    body();
  } catch (...) {
    cudaGraph_t g = nullptr;
    cudaStreamEndCapture(stream, &g);  // ends the (possibly invalidated) capture
    if (g) cudaGraphDestroy(g);
    cudaGetLastError();
    throw;
  }
  cudaGraph_t g = nullptr;
  LB_CUDA_CHECK(cudaStreamEndCapture(stream, &g));
  return g;
}

Graph capture_graph(cudaStream_t stream, const std::function<void()>& body, cudaStreamCaptureMode mode) {
  Graph g;
  g.update_or_instantiate(capture(stream, body, mode));
  return g;
}

void recapture(Graph& graph, cudaStream_t stream, const std::function<void()>& body, cudaStreamCaptureMode mode) {
  graph.update_or_instantiate(capture(stream, body, mode));
}

bool is_capturing(cudaStream_t s) {
  cudaStreamCaptureStatus st = cudaStreamCaptureStatusNone;
  LB_CUDA_CHECK(cudaStreamIsCapturing(s, &st));
  return st == cudaStreamCaptureStatusActive;
}

}  // namespace lb::cuda
