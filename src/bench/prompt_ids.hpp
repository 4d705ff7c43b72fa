// --prompt-ids FILE: the token ids of real prompts (a tokenized text, or the fixed ids a test
// compares against), instead of seeded random ones. Two formats: text, one prompt per line with
// the ids separated by spaces or commas; or a NumPy .npy [B, P] (or [P]) integer array.
#pragma once

#include "options/bench_options.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct PromptIds {
  int64_t batch = 0, length = 0;
  std::vector<int32_t> ids;  // [batch, length], row-major
};

// Reads the file; throws UserError naming it (and the line or the .npy field) when it is not one
// of the two formats, rows differ in length, or an id lies outside [0, vocab).
PromptIds read_prompt_ids(const std::string& path, int64_t vocab);

// --eval-tokens FILE: one long token stream in the same two formats, its lines (or the array's
// rows) read one after the other, so lines may differ in length.
std::vector<int32_t> read_token_stream(const std::string& path, int64_t vocab);

// The batch and prompt length come from the prompts: sets o.batches and o.prompt_lens, after
// checking them against --batch / --prompt-len where those were given (throws UserError).
void apply_prompt_ids(const PromptIds& p, BenchOptions& o);

}  // namespace lb
