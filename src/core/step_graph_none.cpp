// step_graph.hpp for the CPU build: nothing to capture (the application refuses --cuda-graph).
#include "core/step_graph.hpp"

#include <stdexcept>

namespace lb {

struct StepGraph::Impl {};

bool StepGraph::available() { return false; }
StepGraph::StepGraph() = default;
StepGraph::~StepGraph() = default;
StepGraph::StepGraph(StepGraph&&) noexcept = default;
StepGraph& StepGraph::operator=(StepGraph&&) noexcept = default;
void StepGraph::capture(const std::function<void()>&) { throw std::logic_error("lb::StepGraph: this build has no CUDA graphs"); }
bool StepGraph::captured() const { return false; }
void StepGraph::replay() const { throw std::logic_error("lb::StepGraph: this build has no CUDA graphs"); }

}  // namespace lb
