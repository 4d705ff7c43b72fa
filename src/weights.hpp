// One rank's weights, laid out for the kernels. Column-parallel projections are fused into one
// GEMM each (gpt-fast style): wqkv = [q | k | v] rows of this rank's heads, w13 = [gate | up] rows
// of its MLP columns. Row-parallel o_proj and down_proj keep this rank's input columns.
// Embedding, norms and the LM head are replicated.
#pragma once

#include "tensor_parallel.hpp"
#include "types.hpp"
#include "weight_source.hpp"
#include "gemm.hpp"

#include <vector>

namespace lb {

struct LayerWeights {
  Vec attn_norm, mlp_norm;  // [d]
  Weight wqkv;              // [(heads + 2 kv_heads) * head_dim, d]
  Weight wo;                // [d, heads * head_dim]
  Weight w13;               // [2 ff, d]
  Weight w2;                // [d, ff]
};

struct ModelWeights {
  Mat embed;       // [V, d], fp32: only B rows of it are read per step
  Vec final_norm;  // [d]
  Weight lm_head;  // [V, d]
  std::vector<LayerWeights> layers;
};

// The projections and the LM head are stored as `type` (gemm.hpp: make_weight).
ModelWeights load_weights(const ModelConfig& cfg, const Shard& shard, const WeightSource& src,
                          WeightType type = WeightType::F32);

}  // namespace lb
