// libFuzzer target: a config.json's bytes through everything that reads a ModelConfig before any
// weights exist -- lb::parse_model_config, lb::load_model_config (the app's path, via a memfd),
// check_tp_divides / Shard::of for TP 1..8, make_plan (--plan), and rope_inv_freq.
// Configs come from the user, so the only acceptable failure is lb::UserError; a sanitizer report
// (UBSan flags int64 overflow in the later arithmetic), another exception escaping, or an accepted
// config that breaks the invariants below is a finding.
//
// Each input is used twice: as the raw file text, and (json_gen.hpp) as the choices that build a
// well-formed config -- shapes consistent enough to pass validation, with edge-case magnitudes,
// and any key possibly replaced by any JSON value.
#include "core/errors.hpp"
#include "fuzz_support.hpp"
#include "json_gen.hpp"
#include "model/model_config.hpp"
#include "plan/plan.hpp"
#include "model/shard.hpp"
#include "model/variant.hpp"
#ifdef LB_FUZZ_ROPE  // rope.cpp needs Kokkos headers and library; run_fuzz.sh sets this when found
#include "model/rope.hpp"
#endif

#include <nlohmann/json.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

namespace {

// What parse_model_config promises for a config it accepts (src/model/model_config.hpp).
void check_config(const lb::ModelConfig& c) {
  FUZZ_CHECK(c.hidden_size > 0 && c.intermediate_size > 0 && c.num_layers > 0 && c.num_heads > 0 &&
             c.num_kv_heads > 0 && c.vocab_size > 0 && c.max_position_embeddings > 0);
  FUZZ_CHECK(c.hidden_size % c.num_heads == 0 && c.head_dim() % 2 == 0 && c.num_heads % c.num_kv_heads == 0);
  FUZZ_CHECK(c.rms_norm_eps > 0 && c.rope_theta > 0);
  FUZZ_CHECK(c.hybrid_ladder_layers() >= 0 && c.hybrid_ladder_layers() <= c.num_layers);
  FUZZ_CHECK(c.sliding_window >= 0);
  FUZZ_CHECK(c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "qwen2");
  if (c.rope_scaling.llama3)
    FUZZ_CHECK(c.rope_scaling.factor > 0 && c.rope_scaling.low_freq_factor > 0 &&
               c.rope_scaling.high_freq_factor > c.rope_scaling.low_freq_factor &&
               c.rope_scaling.original_max_position_embeddings > 0);
}

// Everything downstream that needs only the config.
void exercise(const lb::ModelConfig& c) {
  check_config(c);
  int slot = 0;
  for (const int64_t v : {c.hidden_size, c.intermediate_size, c.num_layers, c.num_heads, c.num_kv_heads, c.vocab_size,
                          c.max_position_embeddings, c.head_dim(), c.rope_scaling.original_max_position_embeddings})
    fuzz::hint(slot++, uint64_t(v));
#ifdef LB_FUZZ_ROPE
  FUZZ_CHECK(int64_t(lb::rope_inv_freq(c).size()) == c.head_dim() / 2);
#endif
  const std::vector<lb::Variant> all(std::begin(lb::kAllVariants), std::end(lb::kAllVariants));
  for (int tp = 1; tp <= 8; ++tp) {
    try {
      lb::check_tp_divides(c, tp);
    } catch (const lb::UserError&) {
      continue;
    }
    for (const int rank : {0, tp - 1}) {
      const lb::Shard s = lb::Shard::of(c, rank, tp);
      // KV heads are split (tp <= K) or one is replicated per rank (tp a multiple of K): either
      // way the rank's query heads read only its KV heads.
      FUZZ_CHECK(s.heads * tp == c.num_heads && s.ff * tp == c.intermediate_size);
      FUZZ_CHECK(tp <= c.num_kv_heads ? s.kv_heads * tp == c.num_kv_heads : s.kv_heads == 1 && tp % c.num_kv_heads == 0);
      FUZZ_CHECK(s.head0 + s.heads <= c.num_heads && s.kv0 + s.kv_heads <= c.num_kv_heads &&
                 s.ff0 + s.ff <= c.intermediate_size);
      const int64_t group = c.num_heads / c.num_kv_heads;
      FUZZ_CHECK(s.head0 / group >= s.kv0 && (s.head0 + s.heads - 1) / group < s.kv0 + s.kv_heads);
    }
    lb::PlanInput in;  // the app's defaults (--prompt-len 1024 --gen-len 512), batch 1
    in.tp = tp;
    (void)lb::make_plan(c, in, all);
  }
}

// The app reads a path; a memfd behind /proc/self/fd gives it one without touching the disk.
const std::string& config_path() {
  static const std::string path = [] {
    const int fd = memfd_create("fuzz_config", 0);
    if (fd < 0) std::perror("memfd_create"), std::abort();
    return "/proc/self/fd/" + std::to_string(fd);
  }();
  return path;
}

void write_config(const uint8_t* data, size_t size) {
  const int fd = std::stoi(config_path().substr(sizeof("/proc/self/fd/") - 1));
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) std::perror("memfd write"), std::abort();
}

void run(const uint8_t* data, size_t size) {
  // 1. The pure parser on whatever JSON the bytes hold.
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    try {
      exercise(lb::parse_model_config(j, "fuzz"));
    } catch (const lb::UserError&) {
    }
  }
  // 2. The app's own path, file bytes included (its JSON errors must become UserError too).
  write_config(data, size);
  try {
    exercise(lb::load_model_config(config_path()));
  } catch (const lb::UserError&) {
  }
}

// Magnitudes for a dimension: mostly small powers of two, sometimes anything.
int64_t dim(FuzzedDataProvider& p, int max_log2) {
  return p.ConsumeIntegralInRange(0, 3) == 0 ? fuzz::edge_int(p) : int64_t(1) << p.ConsumeIntegralInRange(0, max_log2);
}

std::string structured(FuzzedDataProvider& p) {
  static const char* const words[] = {
      "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
      "vocab_size", "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling", "rope_type", "type",
      "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings", "ladder_layers",
      "tie_word_embeddings", "llama3", "linear", "rope_parameters", "default", "model_type", "llama", "qwen2",
      "mistral", "attention_bias", "mlp_bias", "sliding_window", "use_sliding_window", "layer_types",
      "max_window_layers", "head_dim", "hidden_act", "silu"};
  // heads * head_dim = hidden, kv | heads, head_dim even: valid unless an edge case breaks it.
  // Unsigned products: the harness itself must not overflow a signed int.
  const int64_t heads = dim(p, 10), kv = std::max<int64_t>(1, heads >> p.ConsumeIntegralInRange(0, 3));
  const int64_t head_dim = int64_t(uint64_t(dim(p, 12)) * 2);
  nlohmann::json j = {{"hidden_size", int64_t(uint64_t(heads) * uint64_t(head_dim))},
                      {"intermediate_size", dim(p, 40)},
                      {"num_hidden_layers", dim(p, 20)},
                      {"num_attention_heads", heads},
                      {"num_key_value_heads", kv},
                      {"vocab_size", dim(p, 40)},
                      {"max_position_embeddings", dim(p, 40)},
                      {"rms_norm_eps", 1e-5},
                      {"rope_theta", p.ConsumeBool() ? 10000.0 : fuzz::edge_double(p)}};
  if (p.ConsumeBool())
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", p.ConsumeBool() ? 8.0 : fuzz::edge_double(p)},
                         {"low_freq_factor", 1.0},
                         {"high_freq_factor", p.ConsumeBool() ? 4.0 : fuzz::edge_double(p)},
                         {"original_max_position_embeddings", dim(p, 40)}};
  if (p.ConsumeBool()) j["ladder_layers"] = dim(p, 20);
  if (p.ConsumeBool()) {  // transformers 5's form, sometimes next to the old keys
    j["rope_parameters"] = j.contains("rope_scaling") ? j["rope_scaling"] : nlohmann::json{{"rope_type", "default"}};
    j["rope_parameters"]["rope_theta"] = p.ConsumeBool() ? j["rope_theta"] : nlohmann::json(fuzz::edge_double(p));
    if (p.ConsumeBool()) j.erase("rope_theta");
    if (p.ConsumeBool()) j.erase("rope_scaling");
  }
  // Replace up to three keys, at the top level or inside rope_scaling / rope_parameters, with any value.
  for (int n = p.ConsumeIntegralInRange(0, 3); n > 0; --n) {
    const char* key = p.PickValueInArray(words);
    const char* inner = p.ConsumeBool() ? "rope_scaling" : "rope_parameters";
    const bool nested = j.contains(inner) && j[inner].is_object() && p.ConsumeBool();
    nlohmann::json& where = nested ? j[inner] : j;
    if (p.ConsumeIntegralInRange(0, 7) == 0) where.erase(key);
    else where[key] = fuzz::any_value(p, words);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run(data, size);
  FuzzedDataProvider p(data, size);
  const std::string text = structured(p);
  run(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  return 0;
}
