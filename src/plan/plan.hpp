// --plan: what a configuration costs per rank, computed from the config alone (nothing is
// allocated), so a 405B TP=16 run can be checked on a laptop before it is queued.
#pragma once

#include "model/model_config.hpp"
#include "model/variant.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace lb {

struct PlanInput {
  int64_t tp = 1, batch = 1, prompt_len = 1024, gen_len = 512;
  int64_t dtype_bytes = 2;        // weights
  int64_t cache_dtype_bytes = 2;  // KV cache, activations, all-reduces (the app keeps them fp32)
  double device_mem_gib = 80;
};

struct Plan {
  PlanInput in;
  int64_t params_total = 0;      // the whole model, from the config
  int64_t params_per_rank = 0;   // this rank's shard plus the replicated embedding, norms, LM head
  double weight_bytes = 0;       // params_per_rank * dtype
  double kv_cache_bytes = 0;     // K and V for prompt_len + gen_len positions, this rank's heads
  double activation_bytes = 0;   // the prefill's largest live buffers (upper estimate)
  double total_bytes = 0;
  bool fits = false;
  // One decode step at the mean context (prompt_len + gen_len/2), and one prefill, per rank.
  double decode_flops = 0, decode_bytes = 0;
  double prefill_flops = 0, prefill_bytes = 0;
  // All-reduces per generated token, and elements of each (batch * hidden_size).
  std::vector<std::pair<Variant, int64_t>> allreduces_per_token;
  int64_t allreduce_elements = 0;
};

Plan make_plan(const ModelConfig& cfg, const PlanInput& in, const std::vector<Variant>& variants);
void print_plan(const ModelConfig& cfg, const Plan& p);
nlohmann::json plan_json(const ModelConfig& cfg, const Plan& p);

}  // namespace lb
