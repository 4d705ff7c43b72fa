// Which config.json keys ladder-bench understands, per model_type. A key that could change the
// math and is not implemented is refused by name: the app never runs a model it would compute
// differently from transformers (no silent wrong answers).
#pragma once

#include "model/model_config.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace lb {

// Checks model_type, refuses unknown keys and unsupported values (hidden_act, head_dim,
// softcapping, ...), and sets cfg's model_type, tie_word_embeddings, biases and sliding_window.
// Needs cfg's shapes parsed already (head_dim and layer_types are checked against them).
void parse_model_options(const nlohmann::json& j, const std::string& where, ModelConfig& cfg);

}  // namespace lb
