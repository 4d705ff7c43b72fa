#include "bench/evaluation.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <cmath>

namespace lb {

EvalWindows eval_windows(int64_t stream_tokens, int64_t window, const std::string& file) {
  if (window < 2)
    throw UserError("--eval-tokens " + file + ": a window of " + std::to_string(window) +
                    " token scores nothing (--prompt-len sets the window; it needs at least 2)");
  if (stream_tokens < window)
    throw UserError("--eval-tokens " + file + ": " + std::to_string(stream_tokens) +
                    " tokens hold no whole window of --prompt-len " + std::to_string(window));
  return {window, stream_tokens / window, stream_tokens % window};
}

double mean_next_token_nll(const std::vector<float>& logits, int64_t V, const std::vector<int32_t>& targets) {
  double sum = 0;
  for (size_t t = 0; t < targets.size(); ++t) {
    const float* row = logits.data() + t * size_t(V);
    const double top = *std::max_element(row, row + V);
    double z = 0;
    for (int64_t j = 0; j < V; ++j) z += std::exp(double(row[j]) - top);
    sum += top + std::log(z) - double(row[targets[t]]);
  }
  return sum / double(targets.size());
}

EvalRecord evaluate(Transformer& model, const Schedule& schedule, const std::vector<int32_t>& stream,
                    const EvalWindows& windows, const std::string& file) {
  const int64_t W = windows.window, V = model.config().vocab_size;
  model.reserve(1, W, W);
  Tokens tokens("eval_tokens", 1, W);
  auto host_tokens = Kokkos::create_mirror_view(tokens);
  double nll_sum = 0;
  for (int64_t w = 0; w < windows.count; ++w) {
    const auto first = stream.begin() + w * W;
    std::copy(first, first + W, host_tokens.data());
    Kokkos::deep_copy(tokens, host_tokens);
    const Mat& logits = model.forward_every_position(tokens, schedule);
    // Positions 0 .. W-2 predict tokens 1 .. W-1 of the window.
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), logits);
    const std::vector<float> rows(host.data(), host.data() + (W - 1) * V);
    nll_sum += mean_next_token_nll(rows, V, std::vector<int32_t>(first + 1, first + W)) * double(W - 1);
  }
  EvalRecord r;
  r.tokens_file = file;
  r.window = W;
  r.windows = windows.count;
  r.scored = windows.count * (W - 1);
  r.unused = windows.unused;
  r.nll_mean = nll_sum / double(r.scored);
  r.perplexity = std::exp(r.nll_mean);
  return r;
}

}  // namespace lb
