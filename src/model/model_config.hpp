// Model shapes and the options that change the math, read from a Hugging Face config.json as
// transformers 4.x and 5.x write it for the model types computed exactly (llama, mistral, qwen2).
// Every other key that could change the math is refused by name (config_keys.hpp).
#pragma once

#include "model/variant.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace lb {

// Llama-3.1 RoPE scaling (rope_type "llama3", in `rope_scaling` or transformers 5's
// `rope_parameters`), as Hugging Face implements it.
struct RopeScaling {
  bool llama3 = false;
  double factor = 1, low_freq_factor = 1, high_freq_factor = 4;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string name;  // short name: the config's directory name, or the name given to --model
  int64_t hidden_size = 0;        // d
  int64_t intermediate_size = 0;  // F
  int64_t num_layers = 0;         // L
  int64_t num_heads = 0;          // H
  int64_t num_kv_heads = 0;       // K
  int64_t vocab_size = 0;         // V
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  std::string model_type = "llama";  // the project's shape-only configs may omit it: Llama
  // The LM head is the embedding matrix (the checkpoint has no lm_head.weight).
  bool tie_word_embeddings = false;
  // Which projections carry a bias tensor: q/k/v (Qwen2; Llama's attention_bias), o_proj
  // (attention_bias), gate/up/down (Llama's mlp_bias).
  bool qkv_bias = false, o_bias = false, mlp_bias = false;
  // The shortest sliding attention window of any layer (0: every layer attends to all keys).
  int64_t sliding_window = 0;
  // hybrid-ladder: how many final layers use the ladder residual (config key "ladder_layers";
  // -1 = not given, then half of the layers).
  int64_t ladder_layers = -1;
  // desync: which all-reduces each layer keeps (config key "desync_pattern"; variant.hpp).
  DesyncPattern desync_pattern = DesyncPattern::Default;
  nlohmann::json raw;  // the parsed file, recorded verbatim in the results

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t hybrid_ladder_layers() const { return ladder_layers >= 0 ? ladder_layers : num_layers / 2; }
};

// Parses and validates a config (throws UserError naming the key and what was wrong).
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& name);

// `spec` is a config.json path, a directory holding one, or a short name found under the
// project's configs/models/<name>/config.json (searched relative to the executable and the cwd).
ModelConfig load_model_config(const std::string& spec);

// Throws UserError when a sequence of `positions` tokens (prompt + generated) would reach past a
// sliding attention window: the kernels attend to every earlier key, so the result would differ.
void check_attention_window(const ModelConfig& cfg, int64_t positions);

// Throws UserError unless `tp` divides the query heads, KV heads and MLP width.
void check_tp_divides(const ModelConfig& cfg, int tp);

}  // namespace lb
