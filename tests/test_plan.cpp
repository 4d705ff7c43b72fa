// --plan arithmetic against counts derived directly from the config.
#include "harness.hpp"
#include "plan/plan.hpp"

#include <gtest/gtest.h>

namespace lb {
namespace {

TEST(Plan, Llama3_70bAtTp8) {
  const ModelConfig c = load_model_config(testing::source_path("configs/models/llama-3-70b"));
  PlanInput in;
  in.tp = 8;
  in.batch = 1;
  in.prompt_len = 1024;
  in.gen_len = 512;
  const Plan p = make_plan(c, in, {Variant::Standard, Variant::Ladder, Variant::Parallel, Variant::UpperBound});

  // Exact count: every matrix of every layer split 8 ways, embedding, LM head and norms replicated.
  const double d = 8192, F = 28672, V = 128256, L = 80, dh = 128;
  const double per_layer = d * 64 * dh + 2 * d * 8 * dh + d * 64 * dh + 3 * d * F;
  const double replicated = 2 * V * d + d + 2 * d * L;
  EXPECT_NEAR(double(p.params_total), L * per_layer + replicated, 1);
  EXPECT_NEAR(double(p.params_total) / 1e9, 70.55, 0.01);  // Llama-3-70B's published size
  const double exact_per_rank = L * per_layer / 8 + replicated;
  EXPECT_LT(std::abs(double(p.params_per_rank) - exact_per_rank) / exact_per_rank, 0.01);

  EXPECT_EQ(p.allreduce_elements, 8192);
  const std::vector<std::pair<Variant, int64_t>> expect = {
      {Variant::Standard, 160}, {Variant::Ladder, 160}, {Variant::Parallel, 80}, {Variant::UpperBound, 0}};
  EXPECT_EQ(p.allreduces_per_token, expect);
  EXPECT_TRUE(p.fits);  // 20 GiB of bf16 weights per rank
}

TEST(Plan, Llama31_405bNeedsTwoNodes) {
  const ModelConfig c = load_model_config(testing::source_path("configs/models/llama-3.1-405b"));
  PlanInput in;
  in.batch = 4;
  in.tp = 8;
  EXPECT_FALSE(make_plan(c, in, {}).fits);  // 405B in bf16 over 8 x 80 GB: ~100 GB per rank
  in.tp = 16;
  EXPECT_TRUE(make_plan(c, in, {}).fits);
}

// Llama-3-70B has 8 KV heads: at TP=16 each rank holds one KV head, replicated over two ranks.
TEST(Plan, KvHeadsAreReplicatedBeyondTheirCount) {
  const ModelConfig c = load_model_config(testing::source_path("configs/models/llama-3-70b"));
  ASSERT_EQ(c.num_kv_heads, 8);
  PlanInput in;
  in.batch = 1;
  in.prompt_len = 1024;
  in.gen_len = 512;
  in.tp = 8;
  const Plan p8 = make_plan(c, in, {});
  in.tp = 16;
  const Plan p16 = make_plan(c, in, {});
  EXPECT_EQ(p16.kv_cache_bytes, p8.kv_cache_bytes);  // one KV head per rank either way
  // The same 128-column K and V row blocks on both ranks of a pair, so half of TP=8's per-rank
  // matrix parameters plus one KV head's worth (2 * 128 * 8192 per layer) of replication.
  const int64_t replicated = 2 * 128 * 8192 * c.num_layers;
  const int64_t shared = 2 * c.vocab_size * c.hidden_size + c.hidden_size + 2 * c.hidden_size * c.num_layers;
  EXPECT_EQ(p16.params_per_rank - shared, (p8.params_per_rank - shared - replicated) / 2 + replicated);
  EXPECT_NO_THROW(check_tp_divides(c, 16));
  ModelConfig twelve = c;  // 12 KV heads at TP=8: 8 neither divides 12 nor is a multiple of it
  twelve.num_heads = 96;
  twelve.num_kv_heads = 12;
  testing::expect_user_error([&] { check_tp_divides(twelve, 8); }, "num_key_value_heads=12");
}

}  // namespace
}  // namespace lb
