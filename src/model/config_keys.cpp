#include "model/config_keys.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <set>

namespace lb {
namespace {

// Keys with no effect on the logits of a forward pass: bookkeeping, tokens, training and
// generation settings. ("pretraining_tp" only splits transformers' matmuls into slices.)
const std::set<std::string> kInertKeys = {
    "architectures", "transformers_version", "torch_dtype", "dtype", "_name_or_path", "bos_token_id",
    "eos_token_id", "pad_token_id", "initializer_range", "use_cache", "attention_dropout",
    "pretraining_tp", "output_attentions", "output_hidden_states", "return_dict", "tokenizer_class",
    "max_window_layers"};

// Keys read by parse_model_config and rope_config for every model type, and this project's own
// ladder_layers (hybrid-ladder) and desync_pattern (desync).
const std::set<std::string> kReadKeys = {
    "model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "vocab_size", "max_position_embeddings", "rms_norm_eps", "rope_theta",
    "rope_scaling", "rope_parameters", "hidden_act", "head_dim", "tie_word_embeddings", "ladder_layers",
    "desync_pattern"};

// The keys each supported model_type adds (their values are checked below).
const std::set<std::string>& type_keys(const std::string& type) {
  static const std::set<std::string> llama = {"attention_bias", "mlp_bias"};
  static const std::set<std::string> mistral = {"sliding_window"};
  static const std::set<std::string> qwen2 = {"sliding_window", "use_sliding_window", "layer_types", "use_mrope"};
  return type == "mistral" ? mistral : type == "qwen2" ? qwen2 : llama;
}

bool flag(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return false;
  if (!j.at(key).is_boolean()) throw UserError(where + ": key \"" + key + "\" must be true or false, found " + j.at(key).dump());
  return j.at(key).get<bool>();
}

// The sliding window, if any layer uses one: Mistral applies sliding_window to every layer;
// Qwen2 only with use_sliding_window, to the layers its layer_types (transformers 5) mark
// "sliding_attention", or else to layers from max_window_layers on (transformers 4).
int64_t parse_window(const nlohmann::json& j, const std::string& where, const ModelConfig& c) {
  if (!j.contains("sliding_window") || j.at("sliding_window").is_null()) return 0;
  const auto& w = j.at("sliding_window");
  if (!w.is_number_integer() || w.get<int64_t>() <= 0)
    throw UserError(where + ": key \"sliding_window\" must be a positive integer or null, found " + w.dump());
  if (c.model_type != "qwen2") return w.get<int64_t>();
  if (!flag(j, "use_sliding_window", where)) return 0;
  bool any_sliding = false;
  if (j.contains("layer_types") && !j.at("layer_types").is_null()) {
    const auto& types = j.at("layer_types");
    if (!types.is_array() || int64_t(types.size()) != c.num_layers)
      throw UserError(where + ": key \"layer_types\" must list num_hidden_layers entries");
    for (const auto& t : types) {
      if (t != "full_attention" && t != "sliding_attention")
        throw UserError(where + ": layer_types entry " + t.dump() + " is not supported");
      any_sliding = any_sliding || t == "sliding_attention";
    }
  } else {
    const auto& m = j.contains("max_window_layers") ? j.at("max_window_layers") : nlohmann::json(0);
    if (!m.is_number_integer()) throw UserError(where + ": key \"max_window_layers\" must be an integer, found " + m.dump());
    any_sliding = m.get<int64_t>() < c.num_layers;
  }
  return any_sliding ? w.get<int64_t>() : 0;
}

}  // namespace

void parse_model_options(const nlohmann::json& j, const std::string& where, ModelConfig& c) {
  if (j.contains("model_type")) {
    const auto& t = j.at("model_type");
    if (!t.is_string() || (t != "llama" && t != "mistral" && t != "qwen2"))
      throw UserError(where + ": model_type " + t.dump() +
                      " is not supported (computed exactly: \"llama\", \"mistral\", \"qwen2\")");
    c.model_type = t.get<std::string>();
  }
  const std::set<std::string>& extra = type_keys(c.model_type);
  for (const auto& [key, v] : j.items())
    if (!kInertKeys.count(key) && !kReadKeys.count(key) && !extra.count(key))
      throw UserError(where + ": key \"" + key + "\" is not supported for model_type \"" + c.model_type +
                      "\" (it may change the model's math; ladder-bench refuses what it does not compute)");

  if (j.contains("hidden_act") && j.at("hidden_act") != "silu")
    throw UserError(where + ": hidden_act " + j.at("hidden_act").dump() + " is not supported (only \"silu\": SwiGLU)");
  if (j.contains("head_dim") && !j.at("head_dim").is_null() && j.at("head_dim") != c.head_dim())
    throw UserError(where + ": head_dim " + j.at("head_dim").dump() + " is not supported: it must equal hidden_size / num_attention_heads = " +
                    std::to_string(c.head_dim()));
  if (flag(j, "use_mrope", where)) throw UserError(where + ": use_mrope=true is not supported");
  c.tie_word_embeddings = flag(j, "tie_word_embeddings", where);
  // Qwen2 always has q/k/v biases (no flag); Llama's attention_bias adds them and o_proj's.
  c.qkv_bias = c.model_type == "qwen2" || flag(j, "attention_bias", where);
  c.o_bias = c.model_type == "llama" && flag(j, "attention_bias", where);
  c.mlp_bias = c.model_type == "llama" && flag(j, "mlp_bias", where);
  c.sliding_window = parse_window(j, where, c);
}

}  // namespace lb
