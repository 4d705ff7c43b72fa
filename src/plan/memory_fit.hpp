// Whether a run fits in memory, decided before anything is allocated: the plan's per-rank bytes
// (weights, KV cache, prefill activations) against what this rank may allocate. Refused by name
// ("needs X GiB per rank, Y GiB available") instead of failing inside Kokkos' allocator.
#pragma once

#include "plan/plan.hpp"
#include "core/available_memory.hpp"
#include "core/dtype.hpp"

#include <cstdint>
#include <string>

namespace lb {

struct BenchOptions;

// The plan of the largest cell ladder-bench would measure here: weights in `weights`, KV cache
// and activations in the app's fp32, the largest --batch, --prompt-len and --gen-len, `tp` ranks;
// with --eval-tokens also the logits of every position of one window.
Plan plan_of_run(const ModelConfig& cfg, const BenchOptions& o, DType weights, int64_t tp);


// What one rank may allocate: the host's available memory shared by `ranks_on_node` ranks; in the
// GPU build the free memory of this rank's device (one device per rank).
AvailableMemory memory_per_rank(int ranks_on_node);

// "needs X GiB per rank (weights a, KV cache b, prefill activations c), Y GiB available (source)".
std::string memory_need(const Plan& plan, const AvailableMemory& per_rank);
bool fits(const Plan& plan, const AvailableMemory& per_rank);

// Throws UserError with memory_need() and the flags that lower the need, if it does not fit.
void check_memory_fit(const Plan& plan, const AvailableMemory& per_rank);

}  // namespace lb
