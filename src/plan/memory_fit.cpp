#include "plan/memory_fit.hpp"

#include "options/bench_options.hpp"
#include "core/errors.hpp"
#include "core/types.hpp"

#include <algorithm>
#include <cstdio>

namespace lb {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

}  // namespace

Plan plan_of_run(const ModelConfig& cfg, const BenchOptions& o, DType weights, int64_t tp) {
  PlanInput in;
  in.tp = tp;
  // Each cell's generator is freed before the next one's, and the need grows with each of the
  // three: the largest of each decides.
  in.batch = *std::max_element(o.batches.begin(), o.batches.end());
  in.prompt_len = *std::max_element(o.prompt_lens.begin(), o.prompt_lens.end());
  in.gen_len = *std::max_element(o.gen_lens.begin(), o.gen_lens.end());
  in.dtype_bytes = dtype_bytes(weights);
  in.cache_dtype_bytes = sizeof(real);
  Plan p = make_plan(cfg, in, {});
  if (!o.eval_tokens.empty()) {  // --eval-tokens: every position's logits of one window, [prompt_len, vocab]
    const double every_logits = double(in.prompt_len) * double(cfg.vocab_size) * double(sizeof(real));
    p.activation_bytes += every_logits;
    p.total_bytes += every_logits;
  }
  return p;
}

AvailableMemory memory_per_rank(int ranks_on_node) {
#ifdef LADDERBENCH_CUDA
  (void)ranks_on_node;  // each rank has a device of its own
  return device_available_memory();
#else
  AvailableMemory m = host_available_memory();
  if (ranks_on_node > 1) {
    m.bytes /= ranks_on_node;
    m.source += " shared by " + std::to_string(ranks_on_node) + " ranks on this node";
  }
  return m;
#endif
}

std::string memory_need(const Plan& p, const AvailableMemory& per_rank) {
  char s[256];
  std::snprintf(s, sizeof s,
                "needs %.1f GiB per rank (weights %.1f, KV cache %.1f, prefill activations %.1f), %.1f GiB available",
                p.total_bytes / kGiB, p.weight_bytes / kGiB, p.kv_cache_bytes / kGiB, p.activation_bytes / kGiB,
                per_rank.bytes / kGiB);
  return std::string(s) + " (" + per_rank.source + ")";
}

bool fits(const Plan& p, const AvailableMemory& per_rank) { return p.total_bytes <= per_rank.bytes; }

void check_memory_fit(const Plan& p, const AvailableMemory& per_rank) {
  if (fits(p, per_rank)) return;
  throw UserError("--batch " + std::to_string(p.in.batch) + " --prompt-len " + std::to_string(p.in.prompt_len) +
                  " --gen-len " + std::to_string(p.in.gen_len) + " at TP " + std::to_string(p.in.tp) + " " +
                  memory_need(p, per_rank) +
                  ": lower --batch, --prompt-len or --gen-len, or run on more ranks (mpirun -np), fewer per node");
}

}  // namespace lb
