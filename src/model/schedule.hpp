// The residual schedule of one variant (spec sections 2-5), decided once from (variant, config,
// TP). Transformer::forward, the plan and the reports ask it; nothing else decodes a Variant.
//
// Modules are numbered i = 2*layer + (0 attention | 1 MLP). A module's output is *settled* by
// waiting for its all-reduce and adding it to the residual stream. Module i reads the stream
// through module reads_through(i):
//   standard layer  i - 1  (r_i = r_{i-1} + h_i(r_{i-1})): settle right after computing;
//   ladder layer    i - 2  (r_i = r_{i-1} + h_i(r_{i-2})): the all-reduce of module i-1
//                           overlaps module i and is settled just before module i+1.
// The hybrid (standard below `ladder_from`, ladder from there on) follows from the same rule,
// including its boundary. The parallel block computes attention and MLP from one shared norm and
// settles their summed output as one module per layer. Upper-bound, and any variant at TP=1,
// settles without communication (one rank has nothing to reduce).
//
// Desync (the paper repo's gpt_desync) keeps standard's order but a residual stream per rank: a
// module whose all-reduce the pattern keeps makes the stream AllReduce(partial + stream / P) (the
// stream divided by P so the sum restores it once), one whose all-reduce it drops adds its partial
// on the rank alone. At TP=1 both are standard's r + h.
#pragma once

#include "model/model_config.hpp"
#include "model/variant.hpp"

#include <cstdint>

namespace lb {

class Schedule {
 public:
  Schedule(Variant variant, const ModelConfig& cfg, int tp);

  Variant variant() const { return variant_; }
  int tp() const { return tp_; }
  // Whether a forward starts any all-reduce.
  bool communicates() const { return communicates_; }
  // The PaLM/GPT-J block: one shared norm, one input GEMM, one settled module per layer.
  bool parallel_block() const { return variant_ == Variant::Parallel; }
  // The first layer with the ladder residual (num_layers: none).
  int64_t ladder_from() const { return ladder_from_; }
  // Layers with the ladder residual (the hybrid's `ladder_layers`; all for ladder).
  int64_t ladder_layers() const { return layers_ - ladder_from_; }
  int64_t modules() const { return 2 * layers_; }
  // Before module i computes, every pending module with index <= reads_through(i) is settled.
  int64_t reads_through(int64_t module) const { return module / 2 >= ladder_from_ ? module - 2 : module - 1; }
  // Desync: each rank keeps its own stream; a kept all-reduce reduces partial + stream / P.
  bool desync() const { return variant_ == Variant::Desync; }
  // Whether module i's output is all-reduced (every module's when the forward communicates, but
  // those desync's pattern drops).
  bool reduces(int64_t module) const;
  // All-reduces one forward starts, each of batch * tokens * hidden_size elements.
  int64_t allreduces_per_forward() const;

 private:
  Variant variant_;
  int tp_;
  int64_t layers_;
  int64_t ladder_from_;
  DesyncPattern desync_pattern_;
  bool communicates_;
};

}  // namespace lb
