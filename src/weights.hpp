// One rank's weights, laid out for the kernels. Column-parallel projections are fused into one
// GEMM each (gpt-fast style): wqkv = [q | k | v] rows of this rank's heads, w13 = [gate | up] rows
// of its MLP columns. Row-parallel o_proj and down_proj keep this rank's input columns.
// Embedding, norms and the LM head are replicated.
#pragma once

#include "tensor_parallel.hpp"
#include "types.hpp"
#include "weight_source.hpp"

#include <vector>

namespace lb {

struct LayerWeights {
  Vec attn_norm, mlp_norm;  // [d]
  Mat wqkv;                 // [(heads + 2 kv_heads) * head_dim, d]
  Mat wo;                   // [d, heads * head_dim]
  Mat w13;                  // [2 ff, d]
  Mat w2;                   // [d, ff]
};

struct ModelWeights {
  Mat embed;       // [V, d]
  Vec final_norm;  // [d]
  Mat lm_head;     // [V, d]
  std::vector<LayerWeights> layers;
};

ModelWeights load_weights(const ModelConfig& cfg, const Shard& shard, const WeightSource& src);

}  // namespace lb
