// Model shapes, read from a Hugging Face style config.json (the keys LlamaForCausalLM uses).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace lb {

// Llama-3.1 RoPE scaling (`rope_scaling.rope_type = "llama3"`), as Hugging Face implements it.
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
  // hybrid-ladder: how many final layers use the ladder residual (config key "ladder_layers";
  // -1 = not given, then half of the layers).
  int64_t ladder_layers = -1;
  nlohmann::json raw;  // the parsed file, recorded verbatim in the results

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t hybrid_ladder_layers() const { return ladder_layers >= 0 ? ladder_layers : num_layers / 2; }
};

// Parses and validates a config (throws UserError naming the key and what was wrong).
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& name);

// `spec` is a config.json path, a directory holding one, or a short name found under the
// project's configs/models/<name>/config.json (searched relative to the executable and the cwd).
ModelConfig load_model_config(const std::string& spec);

// Throws UserError unless `tp` divides the query heads, KV heads and MLP width.
void check_tp_divides(const ModelConfig& cfg, int tp);

}  // namespace lb
