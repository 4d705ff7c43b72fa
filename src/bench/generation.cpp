#include "bench/generation.hpp"

#include "kernels/kernels.hpp"

#include <chrono>

namespace lb {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Generator::Generator(Transformer& model, int64_t batch, int64_t prompt_len, int64_t gen_len, bool cuda_graph)
    : model_(model),
      batch_(batch),
      prompt_len_(prompt_len),
      gen_len_(gen_len),
      cuda_graph_(cuda_graph),
      prompt_("prompt", batch, prompt_len),
      next_("next_token", batch, 1),
      out_("generated", batch, gen_len) {
  // The KV cache holds the prompt and every generated token but the last (never fed back).
  model_.reserve(batch, prompt_len, prompt_len + gen_len - 1);
}

void Generator::decode_step(int64_t step, const Schedule& schedule, const StepGraph* graph) {
  model_.set_position(prompt_len_ + step - 1, 1);
  if (graph) {
    graph->replay();
    model_.comm().watch_replayed_step();
  } else {
    model_.forward(next_, schedule);
  }
  argmax_rows(model_.logits(), next_, out_, step);
}

// The capture: one eager prefill and decode step first (they size every buffer, set up cuBLAS and
// NCCL's connections; a capture may allocate nothing), then the step's forward recorded once.
// Untimed; the KV cache it leaves is overwritten by the next prefill.
const StepGraph& Generator::graph_for(const Schedule& schedule) {
  auto it = graphs_.find(schedule.variant());
  if (it != graphs_.end()) return it->second;
  argmax_rows(model_.forward(prompt_, 0, schedule), next_, out_, 0);
  decode_step(1, schedule, nullptr);
  Kokkos::fence();
  model_.comm().prepare_capture();
  StepGraph graph;
  graph.capture([&] { model_.forward(next_, schedule); });
  return graphs_.emplace(schedule.variant(), std::move(graph)).first->second;
}

GenerationTiming Generator::run(const std::vector<int32_t>& prompt, const Schedule& schedule, bool keep_logits,
                                ModuleProfile* decode_profile) {
  auto h_prompt = Kokkos::create_mirror_view(prompt_);
  for (int64_t i = 0; i < batch_ * prompt_len_; ++i) h_prompt.data()[i] = prompt[size_t(i)];
  Kokkos::deep_copy(prompt_, h_prompt);
  // Profiled steps fence around every module: they run eagerly.
  const StepGraph* graph = cuda_graph_ && !decode_profile ? &graph_for(schedule) : nullptr;
  Kokkos::fence();

  GenerationTiming t;
  auto t0 = std::chrono::steady_clock::now();
  const Mat& logits = model_.forward(prompt_, 0, schedule);
  argmax_rows(logits, next_, out_, 0);
  Kokkos::fence();
  t.prefill_s = seconds_since(t0);

  if (keep_logits) {  // copied after the clock stopped, before the first decode step overwrites them
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), logits);
    logits_.assign(h.data(), h.data() + h.size());
  }

  t.step_s.reserve(size_t(gen_len_ - 1));
  if (decode_profile) {
    decode_profile->reset(model_.config().num_layers);
    model_.set_observer(decode_profile);
  }
  for (int64_t step = 1; step < gen_len_; ++step) {
    t0 = std::chrono::steady_clock::now();
    decode_step(step, schedule, graph);
    Kokkos::fence();
    t.step_s.push_back(seconds_since(t0));
    t.decode_s += t.step_s.back();
  }
  if (decode_profile) {
    model_.set_observer(nullptr);
    for (auto* v : {&decode_profile->compute_s, &decode_profile->wait_s})
      for (double& x : *v) x /= double(gen_len_ - 1);
  }
  return t;
}

std::vector<int32_t> Generator::tokens() const {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out_);
  return std::vector<int32_t>(h.data(), h.data() + h.size());
}

}  // namespace lb
