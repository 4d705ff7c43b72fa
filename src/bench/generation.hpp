// One timed generation in the paper's protocol: a prefill of the prompt (which yields the first
// token) followed by gen_len-1 greedy decode steps, each timed on a monotonic clock.
#pragma once

#include "measure/module_profile.hpp"
#include "core/step_graph.hpp"
#include "model/transformer.hpp"

#include <map>
#include <vector>

namespace lb {

struct GenerationTiming {
  double prefill_s = 0;          // prompt forward + first token
  double decode_s = 0;           // sum of step_s
  std::vector<double> step_s;    // [gen_len - 1]
};

class Generator {
 public:
  // With `cuda_graph`, decode steps replay one captured step per variant (StepGraph), captured
  // the first time the variant's schedule runs, after one untimed eager generation step.
  Generator(Transformer& model, int64_t batch, int64_t prompt_len, int64_t gen_len, bool cuda_graph = false);

  // Generates from `prompt` (host, [batch, prompt_len]) with `schedule`. With keep_logits, the
  // prefill logits are copied aside after the prefill's clock stopped. With `decode_profile`,
  // it receives the per-module times of the decode steps, as the mean of one step (eager steps:
  // the profile fences around every module).
  GenerationTiming run(const std::vector<int32_t>& prompt, const Schedule& schedule, bool keep_logits,
                       ModuleProfile* decode_profile = nullptr);

  std::vector<int32_t> tokens() const;          // [batch, gen_len] of the last run
  const std::vector<float>& prefill_logits() const { return logits_; }  // [batch, vocab]

 private:
  // Decode step `step` (input position prompt_len + step - 1): the model's step, replayed if
  // `graph`, then the greedy choice.
  void decode_step(int64_t step, const Schedule& schedule, const StepGraph* graph);
  const StepGraph& graph_for(const Schedule& schedule);

  Transformer& model_;
  int64_t batch_, prompt_len_, gen_len_;
  bool cuda_graph_;
  Tokens prompt_, next_, out_;
  std::vector<float> logits_;
  std::map<Variant, StepGraph> graphs_;
};

}  // namespace lb
