// Writes Hugging Face style checkpoints for tests: config.json plus model.safetensors, or shards
// with model.safetensors.index.json. Values are taken from a WeightSource, so a checkpoint can be
// written from the seeded random model and loaded back.
#pragma once

#include "model/model_config.hpp"
#include "io/safetensors.hpp"
#include "model/weight_source.hpp"

#include <string>

namespace lb::testing {

// `shards` > 1 splits the tensors round-robin over that many files and writes the index.
void write_checkpoint(const std::string& dir, const ModelConfig& cfg, const WeightSource& src, StDtype dtype,
                      int shards = 1);

}  // namespace lb::testing
