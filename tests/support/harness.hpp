// Small helpers shared by the C++ tests: host<->device copies, error norms, and one-call runs of
// the model at a given TP degree.
#pragma once

#include "comm/comm.hpp"
#include "core/errors.hpp"
#include "model/model_config.hpp"
#include "core/types.hpp"
#include "model/variant.hpp"
#include "model/weight_source.hpp"
#include "core/dtype.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace lb::testing {

// Random weights for tests of the model's function: every module's output is of the order of the
// residual stream, so a wrong module, schedule or shard changes the logits by O(1). (With the
// paper's N(0, 0.02) norm weights the blocks barely touch the stream and ladder and standard
// differ by less than fp32 noise.)
inline constexpr RandomInit kSensitiveInit{0.1, 1.0};

// Path of a file in the source tree (tests run from the build directory).
std::string source_path(const std::string& relative);

// ||a - b|| / ||b|| in float64.
template <class A, class B>
double rel_l2(const A& a, const B& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    num += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    den += double(b[i]) * double(b[i]);
  }
  return std::sqrt(num / den);
}

// Seeded values in [-1, 1) for kernel inputs.
std::vector<double> random_values(size_t n, uint64_t seed);
Mat to_device(const std::vector<double>& v, int64_t rows, int64_t cols);
std::vector<double> to_host(const Mat& m);

struct GenerationResult {
  std::vector<float> prefill_logits;  // [batch, vocab]
  std::vector<int32_t> tokens;        // [batch, gen_len]
  std::vector<double> last_logits;    // [batch, vocab] of the last decode step
};

struct GenerateOptions {
  DType weights = DType::F32;
  bool cuda_graph = false;
};

// Builds rank `rank` of a TP=`size` model from `src` and generates from the seeded prompt.
GenerationResult generate(const ModelConfig& cfg, const WeightSource& src, Comm& comm, int rank, int size,
                          Variant v, int64_t batch, const std::vector<int32_t>& prompt, int64_t gen_len,
                          GenerateOptions options = {});

// Expects `f` to throw a UserError whose message contains `needle` (the message must name the problem).
template <class F>
void expect_user_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an error mentioning \"" << needle << "\"";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::vector<int32_t> seeded_prompt(int64_t batch, int64_t len, int64_t vocab, uint64_t seed);

}  // namespace lb::testing
