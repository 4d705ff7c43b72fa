// Where a rank's weights come from. A source serves rectangular blocks of the *full* (unsharded)
// tensors by their Hugging Face names, so sharding is decided in one place (weights.cpp) and each
// rank reads only its own block — from a seeded generator or from a safetensors checkpoint.
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lb {

struct ModelConfig;

// A block of rows [row0, row0+rows) and columns [col0, col0+cols) of a 2-D tensor of full shape
// `shape` ({n} for 1-D tensors, which are read as a single row).
struct Block {
  std::vector<int64_t> shape;
  int64_t row0 = 0, rows = 1, col0 = 0, cols = 0;
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // Fills `out` (row-major rows x cols) with the block; throws UserError if the tensor is missing
  // or its shape differs from `b.shape`.
  virtual void read(const std::string& name, const Block& b, real* out) const = 0;
  virtual std::string describe() const = 0;
  // Every tensor the source holds, to refuse the ones the model would not use (empty: a
  // generator, which holds whatever is asked for).
  virtual std::vector<std::string> tensor_names() const { return {}; }
  // The --dtype name ("fp32", "bf16", "fp16") of the type all of the source's matrices are stored
  // in, which a run keeps unless --dtype says otherwise; "" for a generator or mixed types.
  virtual std::string stored_dtype() const { return ""; }
};

// Distribution of seeded random weights: N(0, stddev) for matrices, norm_mean + N(0, stddev) for
// norm weights. The default is the paper's protocol: N(0, 0.02) everywhere, norm weights included.
// (Tests use larger weights and unit-mean norms, so every module visibly changes the output.)
struct RandomInit {
  double stddev = 0.02;
  double norm_mean = 0.0;
};
std::unique_ptr<WeightSource> make_random_source(uint64_t seed, RandomInit init = {});
// A Hugging Face checkpoint directory: model.safetensors, or shards listed by
// model.safetensors.index.json. F32/BF16/F16 are converted to the compute dtype.
std::unique_ptr<WeightSource> make_checkpoint_source(const std::string& dir);

// Checks that every tensor the model needs is present with the right shape and that the source
// holds no tensor the model would ignore, before anything large is allocated. Throws UserError
// naming the first problem.
void validate_source(const WeightSource& src, const ModelConfig& cfg);

// Full shape of each Hugging Face tensor of the model (Llama layout; biases and the LM head as
// the config says).
std::vector<std::pair<std::string, std::vector<int64_t>>> llama_tensor_shapes(const ModelConfig& cfg);

}  // namespace lb
