// --eval-tokens: what a variant costs in quality. A long token stream is cut into windows of
// `window` tokens; each window runs through the same forward as the timed runs (teacher forced,
// from position 0, the variant's schedule) and every position's logits score the next token:
// mean negative log-likelihood and perplexity, as transformers' causal-LM loss averages them.
#pragma once

#include "io/results_file.hpp"
#include "model/schedule.hpp"
#include "model/transformer.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// The windows of `stream`: whole windows of `window` tokens, in order; the tail is left out (and
// counted). Throws UserError when the stream holds no whole window or a window has under 2 tokens.
struct EvalWindows {
  int64_t window = 0, count = 0, unused = 0;
};
EvalWindows eval_windows(int64_t stream_tokens, int64_t window, const std::string& file);

// Scores `stream` with `schedule` on `model` (every rank runs the forwards; the logits are those of
// this rank, rank 0's being the ones the app reports). Reserves the model for one window at a time:
// call reserve() again before generating.
EvalRecord evaluate(Transformer& model, const Schedule& schedule, const std::vector<int32_t>& stream,
                    const EvalWindows& windows, const std::string& file);

// The mean of -log softmax(logits[t])[target[t]] over rows t of `logits` [T, V] (host, row-major),
// in float64: the log-sum-exp shifted by each row's maximum.
double mean_next_token_nll(const std::vector<float>& logits, int64_t V, const std::vector<int32_t>& targets);

}  // namespace lb
