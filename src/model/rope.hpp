// Rotary-embedding tables, computed on the host in float64 as Hugging Face's LlamaRotaryEmbedding
// does: inv_freq[i] = theta^(-2i / head_dim), angle = position * inv_freq[i].
#pragma once

#include "model/model_config.hpp"
#include "core/types.hpp"

#include <vector>

namespace lb {

std::vector<double> rope_inv_freq(const ModelConfig& cfg);

struct RopeTables {
  Mat cos, sin;  // [positions, head_dim / 2]
};
RopeTables make_rope_tables(const ModelConfig& cfg, int64_t positions);

}  // namespace lb
