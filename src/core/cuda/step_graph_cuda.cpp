// step_graph.hpp for the LADDERBENCH_CUDA build: a CUDA graph captured on Kokkos' default Cuda
// instance stream, where the kernels, the cuBLAS calls and (forked and joined with events) the
// NCCL all-reduces of a step are enqueued. Relaxed capture mode: Kokkos (4.6) calls
// CudaSpace::allocate for a team launch's level-1 scratch even when it is 0 bytes (cudaMalloc(p, 0),
// which the global and thread-local modes forbid during a capture); relaxed also leaves the NCCL
// watchdog thread free to poll its events meanwhile.
#include "core/step_graph.hpp"

#include "core/cuda/stream.hpp"
#include "core/types.hpp"

namespace lb {

struct StepGraph::Impl {
  cuda::Graph graph;
};

bool StepGraph::available() { return true; }
StepGraph::StepGraph() : impl_(std::make_unique<Impl>()) {}
StepGraph::~StepGraph() = default;
StepGraph::StepGraph(StepGraph&&) noexcept = default;
StepGraph& StepGraph::operator=(StepGraph&&) noexcept = default;

void StepGraph::capture(const std::function<void()>& body) {
  impl_->graph = cuda::capture_graph(ExecSpace().cuda_stream(), body, cudaStreamCaptureModeRelaxed);
}

bool StepGraph::captured() const { return impl_ && impl_->graph.valid(); }

void StepGraph::replay() const { impl_->graph.launch(ExecSpace().cuda_stream()); }

}  // namespace lb
