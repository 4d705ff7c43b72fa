// Parsing and validation of what users give: config.json, variant lists, TP degrees.
#include "bench/prompt_ids.hpp"
#include "core/errors.hpp"
#include "harness.hpp"
#include "model/model_config.hpp"
#include "model/rope.hpp"
#include "model/variant.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <tuple>

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

// transformers 5 writes rope_parameters instead of rope_theta + rope_scaling.
TEST(ModelConfig, Transformers5RopeParametersEqualTheOldKeys) {
  auto old = tiny();
  old["rope_theta"] = 500000.0;
  old["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
  auto now = tiny();
  now["rope_parameters"] = old["rope_scaling"];
  now["rope_parameters"]["rope_theta"] = 500000.0;
  const ModelConfig a = parse_model_config(old, "old"), b = parse_model_config(now, "new");
  EXPECT_DOUBLE_EQ(b.rope_theta, 500000.0);
  EXPECT_TRUE(b.rope_scaling.llama3);
  EXPECT_EQ(rope_inv_freq(a), rope_inv_freq(b));
  auto plain = tiny();
  plain["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
  EXPECT_DOUBLE_EQ(parse_model_config(plain, "x").rope_theta, 1e6);
  EXPECT_FALSE(parse_model_config(plain, "x").rope_scaling.llama3);
  // Both forms, agreeing: fine; disagreeing: refused naming both keys.
  auto both = now;
  both["rope_theta"] = 500000.0;
  EXPECT_NO_THROW(parse_model_config(both, "x"));
  both["rope_theta"] = 10000.0;
  expect_user_error([&] { parse_model_config(both, "x"); }, "rope_theta 10000.0 and rope_parameters.rope_theta 500000.0 disagree");
  both = now;
  both["rope_scaling"] = nullptr;
  expect_user_error([&] { parse_model_config(both, "x"); }, "rope_scaling (no scaling) and rope_parameters (llama3 scaling) disagree");
  both = now;
  both["rope_parameters"]["attention_factor"] = 2.0;
  expect_user_error([&] { parse_model_config(both, "x"); }, "rope_parameters: key \"attention_factor\" is not supported");
  both = now;
  both["rope_parameters"]["rope_type"] = "dynamic";
  expect_user_error([&] { parse_model_config(both, "x"); }, "rope_type \"dynamic\" is not supported");
  both = now;
  both["rope_parameters"].erase("rope_theta");
  expect_user_error([&] { parse_model_config(both, "x"); }, "rope_parameters: missing key \"rope_theta\"");
}

TEST(ModelConfig, KeysThatChangeTheMathAreReadOrRefusedByName) {
  auto j = tiny();
  j["model_type"] = "gemma";
  expect_user_error([&] { parse_model_config(j, "x"); }, "model_type \"gemma\" is not supported");
  for (const auto& [key, value, message] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"hidden_act", "gelu_pytorch_tanh", "hidden_act \"gelu_pytorch_tanh\" is not supported"},
           {"head_dim", 16, "head_dim 16 is not supported"},
           {"attn_logit_softcapping", 50.0, "key \"attn_logit_softcapping\" is not supported"},
           {"final_logit_softcapping", 30.0, "key \"final_logit_softcapping\" is not supported"},
           {"sliding_window", 4, "key \"sliding_window\" is not supported for model_type \"llama\""},
           {"quantization_config", nlohmann::json::object(), "key \"quantization_config\""}}) {
    j = tiny();
    j[key] = value;
    expect_user_error([&] { parse_model_config(j, "x"); }, message);
  }
  j = tiny();
  j["head_dim"] = 8;  // = hidden / heads: what transformers 5 writes for Llama
  j["hidden_act"] = "silu";
  j["tie_word_embeddings"] = true;
  j["attention_bias"] = true;
  const ModelConfig c = parse_model_config(j, "x");
  EXPECT_TRUE(c.tie_word_embeddings && c.qkv_bias && c.o_bias && !c.mlp_bias);
  j = tiny();
  j["model_type"] = "qwen2";
  j["sliding_window"] = 4;
  j["max_window_layers"] = 2;
  const ModelConfig q = parse_model_config(j, "x");
  EXPECT_TRUE(q.qkv_bias && !q.o_bias);  // Qwen2: q/k/v biases always, o_proj none
  EXPECT_EQ(q.sliding_window, 0);        // use_sliding_window defaults to false
  j["use_sliding_window"] = true;
  EXPECT_EQ(parse_model_config(j, "x").sliding_window, 0);  // every layer below max_window_layers
  j["layer_types"] = {"full_attention", "sliding_attention"};
  EXPECT_EQ(parse_model_config(j, "x").sliding_window, 4);
}

TEST(ModelConfig, SlidingWindowShorterThanTheSequenceIsRefused) {
  auto j = tiny();
  j["model_type"] = "mistral";
  j["sliding_window"] = 16;
  const ModelConfig c = parse_model_config(j, "m");
  EXPECT_NO_THROW(check_attention_window(c, 16));
  expect_user_error([&] { check_attention_window(c, 17); }, "sliding_window 16 is shorter than the prompt + generated tokens (17)");
  j["sliding_window"] = nullptr;
  EXPECT_NO_THROW(check_attention_window(parse_model_config(j, "m"), 1000));
}

TEST(ModelConfig, LadderLayersKeyIsReadAndChecked) {
  auto j = tiny();
  EXPECT_EQ(parse_model_config(j, "x").hybrid_ladder_layers(), 1);  // half of 2 by default
  j["ladder_layers"] = 2;
  EXPECT_EQ(parse_model_config(j, "x").hybrid_ladder_layers(), 2);
  j["ladder_layers"] = 3;
  expect_user_error([&] { parse_model_config(j, "x"); }, "\"ladder_layers\" must be an integer in [0, num_hidden_layers]");
  j.erase("ladder_layers");
  EXPECT_EQ(parse_model_config(j, "x").desync_pattern, DesyncPattern::Default);
  j["desync_pattern"] = "infinite";
  EXPECT_EQ(parse_model_config(j, "x").desync_pattern, DesyncPattern::Infinite);
  j["desync_pattern"] = 4;
  expect_user_error([&] { parse_model_config(j, "x"); }, "\"desync_pattern\" must be a string");
  j["desync_pattern"] = "2x";
  expect_user_error([&] { parse_model_config(j, "x"); }, "key \"desync_pattern\": unknown desync pattern \"2x\"");
}

TEST(ModelConfig, EveryPaperShapeLoadsByShortName) {
  for (const char* name : {"1b", "3b", "llama-3-8b", "34b", "llama-3-70b", "llama-3.1-405b", "176b", "demo-cpu", "tiny"})
    EXPECT_NO_THROW(load_model_config(testing::source_path("configs/models/") + name)) << name;
  EXPECT_TRUE(load_model_config(testing::source_path("configs/models/llama-3.1-405b")).rope_scaling.llama3);
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A .npy file as numpy.save writes it (version 1.0, header padded to 64 bytes, ending in \n).
std::string npy(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  const uint16_t n = uint16_t(header.size());
  return std::string("\x93NUMPY\x01\x00", 8) + char(n & 0xff) + char(n >> 8) + header + data;
}

TEST(PromptIds, ReadsTextAndNpyAndChecksEveryId) {
  PromptIds t = read_prompt_ids(write_file("p.txt", "1 2 3\n\n4,5, 6\n"), 10);
  EXPECT_EQ(t.batch, 2);
  EXPECT_EQ(t.length, 3);
  EXPECT_EQ(t.ids, (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  std::string i64;
  for (int64_t v : {7, 8, 9, 0}) i64.append(reinterpret_cast<const char*>(&v), 8);
  PromptIds n = read_prompt_ids(write_file("p.npy", npy("<i8", "(2, 2)", i64)), 10);
  EXPECT_EQ(n.batch, 2);
  EXPECT_EQ(n.length, 2);
  EXPECT_EQ(n.ids, (std::vector<int32_t>{7, 8, 9, 0}));
  std::string i32;
  for (int32_t v : {3, -1}) i32.append(reinterpret_cast<const char*>(&v), 4);
  expect_user_error([&] { read_prompt_ids(write_file("neg.npy", npy("<i4", "(2,)", i32)), 10); },
                    "element 1: token id -1 is outside the vocabulary [0, 10)");
  expect_user_error([&] { read_prompt_ids(write_file("f.npy", npy("<f4", "(1,)", "abcd")), 10); }, "'descr' must be");
  expect_user_error([&] { read_prompt_ids(write_file("short.npy", npy("<i8", "(1, 3)", i64.substr(0, 16))), 10); },
                    "data size does not match");
  expect_user_error([&] { read_prompt_ids(write_file("ragged.txt", "1 2\n3\n"), 10); }, "ragged.txt line 2: 1 ids");
  expect_user_error([&] { read_prompt_ids(write_file("big.txt", "1 10\n"), 10); }, "line 1: token id 10 is outside");
  expect_user_error([&] { read_prompt_ids(write_file("word.txt", "1 two\n"), 10); }, "\"two\" is not an integer");
  expect_user_error([&] { read_prompt_ids(write_file("empty.txt", "\n"), 10); }, "no token ids");
  expect_user_error([&] { read_prompt_ids("/nonexistent/ids.txt", 10); }, "--prompt-ids /nonexistent/ids.txt: cannot read");
}

TEST(PromptIds, SetBatchAndPromptLengthOrMustMatchThem) {
  PromptIds p;
  p.batch = 2;
  p.length = 3;
  BenchOptions o;
  o.prompt_ids = "ids.txt";
  apply_prompt_ids(p, o);
  EXPECT_EQ(o.batches, (std::vector<int64_t>{2}));
  EXPECT_EQ(o.prompt_lens, (std::vector<int64_t>{3}));
  o.batch_given = true;
  o.batches = {4};
  expect_user_error([&] { apply_prompt_ids(p, o); }, "--batch does not match --prompt-ids ids.txt (2 prompts of 3 ids)");
  o.batches = {2};
  o.prompt_len_given = true;
  o.prompt_lens = {3, 5};
  expect_user_error([&] { apply_prompt_ids(p, o); }, "--prompt-len does not match");
}

TEST(Variants, ParsesListsAndAll) {
  EXPECT_EQ(parse_variant_list("all").size(), 5u);  // desync is named on its own
  EXPECT_EQ(parse_variant_list("desync,standard"), (std::vector<Variant>{Variant::Desync, Variant::Standard}));
  EXPECT_EQ(parse_desync_pattern("4x", "--desync-pattern"), DesyncPattern::Every2);
  expect_user_error([] { parse_desync_pattern("8x", "--desync-pattern"); }, "--desync-pattern: unknown desync pattern \"8x\"");
  EXPECT_EQ(parse_variant_list("parallel,hybrid-ladder"), (std::vector<Variant>{Variant::Parallel, Variant::HybridLadder}));
  EXPECT_EQ(parse_variant_list("ladder,standard"), (std::vector<Variant>{Variant::Ladder, Variant::Standard}));
  expect_user_error([] { parse_variant_list("standard,ladderr"); }, "unknown variant \"ladderr\"");
  expect_user_error([] { parse_variant_list("ladder,ladder"); }, "listed twice");
}

}  // namespace
}  // namespace lb
