// Parsing and validation of what users give: config.json, variant lists, TP degrees.
#include "core/errors.hpp"
#include "harness.hpp"
#include "model/model_config.hpp"
#include "model/rope.hpp"
#include "model/variant.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace lb {
namespace {

using testing::expect_user_error;

nlohmann::json tiny() {
  return {{"hidden_size", 64},   {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 8},
          {"num_key_value_heads", 4}, {"vocab_size", 96}, {"max_position_embeddings", 256}};
}


TEST(ModelConfig, ParsesHuggingFaceKeysWithDefaults) {
  const ModelConfig c = parse_model_config(tiny(), "tiny");
  EXPECT_EQ(c.head_dim(), 8);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
}

TEST(ModelConfig, LoadsByShortNameAndPath) {
  EXPECT_EQ(load_model_config(testing::source_path("configs/models/tiny")).name, "tiny");
  EXPECT_EQ(load_model_config(testing::source_path("configs/models/demo-cpu/config.json")).hidden_size, 1024);
}

TEST(ModelConfig, RejectsBadValuesNamingTheKey) {
  auto j = tiny();
  j.erase("vocab_size");
  expect_user_error([&] { parse_model_config(j, "x"); }, "missing key \"vocab_size\"");
  j = tiny();
  j["hidden_size"] = "64";
  expect_user_error([&] { parse_model_config(j, "x"); }, "\"hidden_size\" must be an integer");
  j = tiny();
  j["num_hidden_layers"] = 0;
  expect_user_error([&] { parse_model_config(j, "x"); }, "\"num_hidden_layers\" must be > 0");
  j = tiny();
  j["num_attention_heads"] = 6;
  expect_user_error([&] { parse_model_config(j, "x"); }, "not divisible by num_attention_heads");
  j = tiny();
  j["num_key_value_heads"] = 3;
  expect_user_error([&] { parse_model_config(j, "x"); }, "not divisible by num_key_value_heads");
}

TEST(ModelConfig, RejectsMissingAndMalformedFiles) {
  expect_user_error([] { load_model_config("/nonexistent/config.json"); }, "no such file");
  const std::string bad = ::testing::TempDir() + "/bad_config.json";
  std::ofstream(bad) << "{\"hidden_size\": 64,";
  expect_user_error([&] { load_model_config(bad); }, "malformed JSON");
}

TEST(ModelConfig, TpMustDivideHeadsAndMlpAndDivideOrBeAMultipleOfKvHeads) {
  const ModelConfig c = parse_model_config(tiny(), "tiny");
  EXPECT_NO_THROW(check_tp_divides(c, 4));
  EXPECT_NO_THROW(check_tp_divides(c, 8));  // 8 ranks, 4 KV heads: each replicated on 2 ranks
  expect_user_error([&] { check_tp_divides(c, 3); },
                    "num_attention_heads=8 num_key_value_heads=4 (neither divisible by it nor dividing it) "
                    "intermediate_size=128");
  ModelConfig six = c;  // 6 KV heads at TP=4: only the KV heads do not fit
  six.num_heads = 12;
  six.num_kv_heads = 6;
  expect_user_error([&] { check_tp_divides(six, 4); }, "but not: num_key_value_heads=6 (neither");
}

TEST(ModelConfig, Llama3RopeScalingKeepsHighSlowsLowAndBlendsTheBand) {
  auto j = tiny();
  j["rope_theta"] = 500000.0;
  const ModelConfig plain = parse_model_config(j, "plain");
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
  const ModelConfig scaled = parse_model_config(j, "scaled");
  const auto f = rope_inv_freq(plain), g = rope_inv_freq(scaled);
  // head_dim 8: wavelengths 2*pi/f = 6.3, 167, 4.5e3, 1.2e5 against the band [16/4, 16/1] = [4, 16].
  int kept = 0, slowed = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const double wavelen = 2 * M_PI / f[i];
    if (wavelen < 4) { EXPECT_DOUBLE_EQ(g[i], f[i]); ++kept; }
    if (wavelen > 16) { EXPECT_DOUBLE_EQ(g[i], f[i] / 8); ++slowed; }
    if (wavelen >= 4 && wavelen <= 16) { EXPECT_LT(g[i], f[i]); EXPECT_GT(g[i], f[i] / 8); }
  }
  EXPECT_EQ(slowed, 3);
  EXPECT_EQ(kept, 0);  // 6.3 lies in the band: blended
  j["rope_scaling"]["rope_type"] = "yarn";
  expect_user_error([&] { parse_model_config(j, "x"); }, "rope_type \"yarn\" is not supported");
}

TEST(ModelConfig, LadderLayersKeyIsReadAndChecked) {
  auto j = tiny();
  EXPECT_EQ(parse_model_config(j, "x").hybrid_ladder_layers(), 1);  // half of 2 by default
  j["ladder_layers"] = 2;
  EXPECT_EQ(parse_model_config(j, "x").hybrid_ladder_layers(), 2);
  j["ladder_layers"] = 3;
  expect_user_error([&] { parse_model_config(j, "x"); }, "\"ladder_layers\" must be an integer in [0, num_hidden_layers]");
}

TEST(ModelConfig, EveryPaperShapeLoadsByShortName) {
  for (const char* name : {"1b", "3b", "llama-3-8b", "34b", "llama-3-70b", "llama-3.1-405b", "176b", "demo-cpu", "tiny"})
    EXPECT_NO_THROW(load_model_config(testing::source_path("configs/models/") + name)) << name;
  EXPECT_TRUE(load_model_config(testing::source_path("configs/models/llama-3.1-405b")).rope_scaling.llama3);
}

TEST(Variants, ParsesListsAndAll) {
  EXPECT_EQ(parse_variant_list("all").size(), 5u);
  EXPECT_EQ(parse_variant_list("parallel,hybrid-ladder"), (std::vector<Variant>{Variant::Parallel, Variant::HybridLadder}));
  EXPECT_EQ(parse_variant_list("ladder,standard"), (std::vector<Variant>{Variant::Ladder, Variant::Standard}));
  expect_user_error([] { parse_variant_list("standard,ladderr"); }, "unknown variant \"ladderr\"");
  expect_user_error([] { parse_variant_list("ladder,ladder"); }, "listed twice");
}

}  // namespace
}  // namespace lb
