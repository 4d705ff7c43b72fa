// RoPE settings of a config.json in both forms Hugging Face writes: transformers 4's top-level
// `rope_theta` + `rope_scaling`, and transformers 5's `rope_parameters` object.
#pragma once

#include "model/model_config.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace lb {

// Sets cfg.rope_theta and cfg.rope_scaling. Accepts rope types "default" and "llama3"; refuses
// any other type or key naming it, and refuses both forms present with different values, naming
// both keys (a re-saved checkpoint must not silently run with the stale one).
void parse_rope_config(const nlohmann::json& j, const std::string& where, ModelConfig& cfg);

}  // namespace lb
