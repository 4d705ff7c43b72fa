// One rank's weights, laid out for the kernels. The column-parallel projections are one fused
// matrix w_in = [q | k | v | gate | up] (this rank's heads and MLP columns; gpt-fast style), used
// whole by the parallel block and as its row blocks wqkv and w13 by the others. Row-parallel
// o_proj and down_proj keep this rank's input columns.
// Embedding, norms and the LM head are replicated.
#pragma once

#include "model/shard.hpp"
#include "core/types.hpp"
#include "model/weight_source.hpp"
#include "kernels/gemm.hpp"

#include <vector>

namespace lb {

struct LayerWeights {
  Vec attn_norm, mlp_norm;  // [d]
  Weight w_in;              // [(heads + 2 kv_heads) * head_dim + 2 ff, d]
  Weight wqkv;              // rows [0, (heads + 2 kv_heads) * head_dim) of w_in
  Weight w13;               // the remaining 2 ff rows of w_in
  Weight wo;                // [d, heads * head_dim]
  Weight w2;                // [d, ff]
  // Biases, empty where the model has none. Column-parallel ones are sharded with their
  // columns (bqkv: [q | k | v], b13: [gate | up], as in w_in); row-parallel ones (bo, b2) are
  // held by rank 0 only, which adds them to its partial sum: the all-reduce then adds them
  // exactly once per module.
  Vec bqkv, b13, bo, b2;
};

struct ModelWeights {
  Mat embed;       // [V, d], fp32: only B rows of it are read per step
  Vec final_norm;  // [d]
  Weight lm_head;  // [V, d]: lm_head.weight, or the embedding matrix when tie_word_embeddings
  std::vector<LayerWeights> layers;
};

// The projections and the LM head are stored as `type` (gemm.hpp: make_weight).
ModelWeights load_weights(const ModelConfig& cfg, const Shard& shard, const WeightSource& src,
                          DType type = DType::F32);

}  // namespace lb
