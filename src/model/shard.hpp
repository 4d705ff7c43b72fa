// Megatron-style contiguous block sharding of one rank: which heads and MLP columns it owns. With
// more ranks than KV heads (GQA/MQA at large TP, e.g. Llama-3.1-405B's 8 KV heads at TP=16), each
// rank holds the one KV head its query heads read, replicated over TP/kv_heads ranks (as Megatron
// and vLLM do).
#pragma once

#include "model/model_config.hpp"

#include <cstdint>

namespace lb {

struct Shard {
  int rank = 0, size = 1;
  int64_t head0 = 0, heads = 0;  // query heads [head0, head0 + heads)
  int64_t kv0 = 0, kv_heads = 0; // KV heads [kv0, kv0 + kv_heads)
  int64_t ff0 = 0, ff = 0;       // MLP columns [ff0, ff0 + ff) of gate/up, rows of down

  static Shard of(const ModelConfig& c, int rank, int size) {
    check_tp_divides(c, size);
    Shard s;
    s.rank = rank;
    s.size = size;
    s.heads = c.num_heads / size;
    s.head0 = rank * s.heads;
    if (size <= c.num_kv_heads) {
      s.kv_heads = c.num_kv_heads / size;
      s.kv0 = rank * s.kv_heads;
    } else {  // replicated: query heads [head0, head0 + heads) all lie in KV head head0 / group
      s.kv_heads = 1;
      s.kv0 = s.head0 / (c.num_heads / c.num_kv_heads);
    }
    s.ff = c.intermediate_size / size;
    s.ff0 = rank * s.ff;
    return s;
  }
};

}  // namespace lb
