#include "model/model_config.hpp"

#include "core/errors.hpp"
#include "model/config_keys.hpp"
#include "model/rope_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace lb {
namespace {

// Upper bound of any model dimension (80x the 405B's): keeps every later size computation, e.g.
// --plan's, far from int64 overflow, and rejects absurd configs before anything is allocated.
constexpr int64_t kMaxDim = int64_t(1) << 22;
int64_t positive_int(const nlohmann::json& j, const char* key, const std::string& where, int64_t max = kMaxDim) {
  if (!j.contains(key)) throw UserError(where + ": missing key \"" + key + "\"");
  const auto& v = j.at(key);
  if (!v.is_number_integer())
    throw UserError(where + ": key \"" + key + "\" must be an integer, found " + v.dump());
  const int64_t x = v.get<int64_t>();
  if (x <= 0) throw UserError(where + ": key \"" + key + "\" must be > 0, found " + v.dump());
  if (x > max) throw UserError(where + ": key \"" + key + "\" must be <= " + std::to_string(max) + ", found " + v.dump());
  return x;
}

double positive_number(const nlohmann::json& j, const char* key, double fallback,
                       const std::string& where) {
  if (!j.contains(key)) return fallback;
  const auto& v = j.at(key);
  if (!v.is_number()) throw UserError(where + ": key \"" + key + "\" must be a number, found " + v.dump());
  const double x = v.get<double>();
  if (!(x > 0)) throw UserError(where + ": key \"" + key + "\" must be > 0, found " + v.dump());
  return x;
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

// Resolves a --model argument to a config.json path.
fs::path resolve_config_path(const std::string& spec) {
  const fs::path p(spec);
  if (fs::is_regular_file(p)) return p;
  if (fs::is_directory(p)) {
    if (fs::is_regular_file(p / "config.json")) return p / "config.json";
    throw UserError("--model " + spec + ": directory has no config.json");
  }
  // A short name: look in configs/models next to the source tree the binary was built from
  // (build/bin/../../configs) and in the current directory.
  if (spec.find('/') == std::string::npos) {
    const std::vector<fs::path> roots = {executable_dir() / ".." / "..", fs::current_path()};
    for (const auto& root : roots) {
      const fs::path c = root / "configs" / "models" / spec / "config.json";
      if (fs::is_regular_file(c)) return fs::weakly_canonical(c);
    }
  }
  throw UserError("--model " + spec + ": no such file, directory or model name (names are the folders of configs/models/)");
}

// nlohmann copies and dumps JSON recursively, one stack frame per level, so a deeply nested
// file would overflow the stack at `raw = j` or in an error message. Checked iteratively, first.
void check_nesting(const nlohmann::json& j, const std::string& where) {
  std::vector<std::pair<const nlohmann::json*, int>> todo{{&j, 0}};
  while (!todo.empty()) {
    const auto [v, depth] = todo.back();
    todo.pop_back();
    if (depth > 64) throw UserError(where + ": JSON nested deeper than 64 levels");
    if (v->is_structured())
      for (const auto& c : *v) todo.push_back({&c, depth + 1});
  }
}

}  // namespace

ModelConfig parse_model_config(const nlohmann::json& j, const std::string& name) {
  const std::string where = "config " + name;
  check_nesting(j, where);
  if (!j.is_object()) throw UserError(where + ": expected a JSON object");
  ModelConfig c;
  c.name = name;
  c.hidden_size = positive_int(j, "hidden_size", where);
  c.intermediate_size = positive_int(j, "intermediate_size", where);
  c.num_layers = positive_int(j, "num_hidden_layers", where, int64_t(1) << 14);
  c.num_heads = positive_int(j, "num_attention_heads", where);
  c.num_kv_heads = j.contains("num_key_value_heads") ? positive_int(j, "num_key_value_heads", where)
                                                     : c.num_heads;
  c.vocab_size = positive_int(j, "vocab_size", where);
  c.max_position_embeddings = positive_int(j, "max_position_embeddings", where, INT32_MAX);
  c.rms_norm_eps = positive_number(j, "rms_norm_eps", 1e-5, where);
  c.raw = j;
  if (c.hidden_size % c.num_heads != 0)
    throw UserError(where + ": hidden_size " + std::to_string(c.hidden_size) +
                    " is not divisible by num_attention_heads " + std::to_string(c.num_heads));
  if (c.head_dim() % 2 != 0)
    throw UserError(where + ": head dimension " + std::to_string(c.head_dim()) + " must be even for RoPE");
  if (c.num_heads % c.num_kv_heads != 0)
    throw UserError(where + ": num_attention_heads " + std::to_string(c.num_heads) +
                    " is not divisible by num_key_value_heads " + std::to_string(c.num_kv_heads));
  parse_rope_config(j, where, c);
  parse_model_options(j, where, c);
  if (j.contains("ladder_layers")) {
    const auto& v = j.at("ladder_layers");
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > c.num_layers)
      throw UserError(where + ": key \"ladder_layers\" must be an integer in [0, num_hidden_layers], found " + v.dump());
    c.ladder_layers = v.get<int64_t>();
  }
  if (j.contains("desync_pattern")) {
    const auto& v = j.at("desync_pattern");
    if (!v.is_string()) throw UserError(where + ": key \"desync_pattern\" must be a string, found " + v.dump());
    c.desync_pattern = parse_desync_pattern(v.get<std::string>(), where + ": key \"desync_pattern\"");
  }
  return c;
}

ModelConfig load_model_config(const std::string& spec) {
  const fs::path path = resolve_config_path(spec);
  std::ifstream in(path);
  if (!in) throw UserError("cannot read " + path.string());
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {  // also out_of_range: numbers beyond double
    throw UserError(path.string() + ": malformed JSON: " + e.what());
  }
  const fs::path dir = path.parent_path();
  const std::string name = dir.filename().empty() ? path.stem().string() : dir.filename().string();
  return parse_model_config(j, name);
}

void check_attention_window(const ModelConfig& c, int64_t positions) {
  if (c.sliding_window > 0 && c.sliding_window < positions)
    throw UserError("model " + c.name + ": sliding_window " + std::to_string(c.sliding_window) +
                    " is shorter than the prompt + generated tokens (" + std::to_string(positions) +
                    "); sliding-window attention is not implemented, so this would differ from the model");
}

void check_tp_divides(const ModelConfig& c, int tp) {
  std::ostringstream bad;
  if (c.num_heads % tp) bad << " num_attention_heads=" << c.num_heads;
  if (c.num_kv_heads % tp && tp % c.num_kv_heads)
    bad << " num_key_value_heads=" << c.num_kv_heads << " (neither divisible by it nor dividing it)";
  if (c.intermediate_size % tp) bad << " intermediate_size=" << c.intermediate_size;
  if (!bad.str().empty())
    throw UserError("tensor-parallel degree " + std::to_string(tp) +
                    " (MPI ranks) must divide the heads and MLP width of model " + c.name +
                    " and divide the KV heads or be a multiple of them (then they are replicated), but not:" + bad.str());
}

}  // namespace lb
