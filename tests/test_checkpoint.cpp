// Hugging Face checkpoints: safetensors parsing, dtype conversion, F32/BF16 and sharded checkpoints
// written from the seeded random model load back to the same model, and broken checkpoints are
// rejected with a message naming the problem.
#include "comm/comm.hpp"
#include "core/errors.hpp"
#include "harness.hpp"
#include "io/safetensors.hpp"
#include "safetensors_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace lb {
namespace {

using testing::expect_user_error;

namespace fs = std::filesystem;

// The random model with every weight rounded to bf16: what a BF16 checkpoint of it holds.
class Bf16Rounded final : public WeightSource {
 public:
  explicit Bf16Rounded(const WeightSource& inner) : inner_(inner) {}
  void read(const std::string& name, const Block& b, real* out) const override {
    inner_.read(name, b, out);
    for (int64_t i = 0; i < b.rows * b.cols; ++i) out[i] = bf16_to_float(float_to_bf16(out[i]));
  }
  std::string describe() const override { return "bf16(" + inner_.describe() + ")"; }

 private:
  const WeightSource& inner_;
};

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = load_model_config(testing::source_path("configs/models/tiny/config.json"));
    random_ = make_random_source(3, testing::kSensitiveInit);
    dir_ = ::testing::TempDir() + "/lb_ckpt_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<float> logits(const WeightSource& src) {
    auto comm = make_null_comm();
    const auto prompt = testing::seeded_prompt(2, 5, cfg_.vocab_size, 1);
    return testing::generate(cfg_, src, *comm, 0, 1, Variant::Standard, 2, prompt, 2).prefill_logits;
  }

  ModelConfig cfg_;
  std::unique_ptr<WeightSource> random_;
  std::string dir_;
};

TEST(Safetensors, HalfPrecisionConversions) {
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_float(0xC040), -3.0f);
  EXPECT_EQ(float_to_bf16(1.0f + 1.0f / 256), 0x3F80);  // ties round to even
  EXPECT_EQ(float_to_bf16(1.0f + 3.0f / 256), 0x3F82);
  EXPECT_EQ(f16_to_float(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_float(0xC500), -5.0f);
  EXPECT_EQ(f16_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_TRUE(std::isinf(f16_to_float(0x7C00)));
}

TEST(Safetensors, HeaderValidation) {
  const std::string ok = R"({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})";
  const StHeader h = parse_safetensors_header(ok, ok.size(), 8 + ok.size() + 24, "f");
  EXPECT_EQ(h.tensors.at("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(h.data_start, 8 + ok.size());
  EXPECT_THROW(parse_safetensors_header(ok, ok.size(), 8 + ok.size() + 23, "f"), UserError);  // truncated data
  EXPECT_THROW(parse_safetensors_header("{\"a\": ", 6, 100, "f"), UserError);                 // corrupt JSON
  EXPECT_THROW(parse_safetensors_header(ok, 1000, 100, "f"), UserError);                      // header too long
  const std::string bad_size = R"({"a": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 24]}})";
  EXPECT_THROW(parse_safetensors_header(bad_size, bad_size.size(), 1000, "f"), UserError);
  const std::string bad_dtype = R"({"a": {"dtype": "I8", "shape": [1], "data_offsets": [0, 1]}})";
  EXPECT_THROW(parse_safetensors_header(bad_dtype, bad_dtype.size(), 1000, "f"), UserError);
}

TEST_F(Checkpoint, F32ReproducesTheRandomModelExactly) {
  testing::write_checkpoint(dir_, cfg_, *random_, StDtype::F32);
  EXPECT_EQ(logits(*make_checkpoint_source(dir_)), logits(*random_));
}

TEST_F(Checkpoint, Bf16ReproducesTheBf16RoundedRandomModel) {
  testing::write_checkpoint(dir_, cfg_, *random_, StDtype::BF16);
  const Bf16Rounded rounded(*random_);
  EXPECT_EQ(logits(*make_checkpoint_source(dir_)), logits(rounded));
  // And it is close to, but not the same as, the fp32 model.
  const double err = testing::rel_l2(logits(*make_checkpoint_source(dir_)), logits(*random_));
  EXPECT_GT(err, 0.0);
  EXPECT_LT(err, 2e-2);
}

TEST_F(Checkpoint, ShardedWithIndexEqualsSingleFile) {
  testing::write_checkpoint(dir_, cfg_, *random_, StDtype::F32, 3);
  ASSERT_TRUE(fs::exists(dir_ + "/model.safetensors.index.json"));
  EXPECT_EQ(logits(*make_checkpoint_source(dir_)), logits(*random_));
}

TEST_F(Checkpoint, RejectsBrokenCheckpointsNamingTheProblem) {
  expect_user_error([&] { make_checkpoint_source(dir_ + "/nope"); }, "not a directory");
  fs::create_directories(dir_);
  expect_user_error([&] { make_checkpoint_source(dir_); }, "no model.safetensors");

  // A checkpoint of a smaller model: shapes differ from the config's.
  ModelConfig small = cfg_;
  small.raw["intermediate_size"] = 64;
  small.intermediate_size = 64;
  testing::write_checkpoint(dir_, small, *random_, StDtype::F32);
  expect_user_error([&] { validate_source(*make_checkpoint_source(dir_), cfg_); }, "has shape [64, 64], the config needs [128, 64]");

  // Truncated: the data section is cut short.
  fs::remove_all(dir_);
  testing::write_checkpoint(dir_, cfg_, *random_, StDtype::F32);
  fs::resize_file(dir_ + "/model.safetensors", fs::file_size(dir_ + "/model.safetensors") - 100);
  expect_user_error([&] { make_checkpoint_source(dir_); }, "truncated");

  // A shard listed in the index is missing.
  fs::remove_all(dir_);
  testing::write_checkpoint(dir_, cfg_, *random_, StDtype::F32, 2);
  fs::remove(dir_ + "/model-00002-of-00002.safetensors");
  expect_user_error([&] { make_checkpoint_source(dir_); }, "model-00002-of-00002.safetensors is missing");
}

}  // namespace
}  // namespace lb
