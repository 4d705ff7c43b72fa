#include "model/weight_source.hpp"

#include "core/errors.hpp"
#include "model/model_config.hpp"
#include "model/random_init.hpp"
#include "io/safetensors.hpp"
#include "core/host_threads.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace lb {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

int64_t row_length(const Block& b) { return b.shape.size() == 1 ? b.shape[0] : b.shape[1]; }

class RandomSource final : public WeightSource {
 public:
  RandomSource(uint64_t seed, RandomInit init) : seed_(seed), init_(init) {}
  void read(const std::string& name, const Block& b, real* out) const override {
    const uint64_t id = name_hash(name);
    const int64_t ld = row_length(b);
    const double mean = b.shape.size() == 1 ? init_.norm_mean : 0.0;
    const auto rows = [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = 0; c < b.cols; ++c)
          out[r * b.cols + c] = real(mean + normal_at(seed_, id, uint64_t((b.row0 + r) * ld + b.col0 + c), init_.stddev));
    };
    // Counter-based values: any split over threads gives the same tensor.
    host_parallel_ranges(b.rows, std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(b.cols, 1)), rows);
  }
  std::string describe() const override { return "random"; }

 private:
  uint64_t seed_;
  RandomInit init_;
};

// An open safetensors file with its parsed header; reads blocks with pread.
struct ShardFile {
  std::string path;
  StHeader header;
  int fd = -1;
  ~ShardFile() {
    if (fd >= 0) ::close(fd);
  }
};

class CheckpointSource final : public WeightSource {
 public:
  explicit CheckpointSource(const std::string& dir) : dir_(dir) {
    if (!fs::is_directory(dir)) throw UserError("--weights " + dir + ": not a directory");
    const fs::path index = fs::path(dir) / "model.safetensors.index.json";
    const fs::path single = fs::path(dir) / "model.safetensors";
    if (fs::is_regular_file(index)) {
      nlohmann::json j;
      std::ifstream in(index);
      try {
        in >> j;
      } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for huge numbers
        throw UserError(index.string() + ": malformed JSON: " + e.what());
      }
      if (!j.contains("weight_map") || !j["weight_map"].is_object())
        throw UserError(index.string() + ": missing object \"weight_map\"");
      for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string()) throw UserError(index.string() + ": weight_map entry " + name + " is not a file name");
        file_of_[name] = open_shard((fs::path(dir) / file.get<std::string>()).string());
      }
    } else if (fs::is_regular_file(single)) {
      ShardFile* f = open_shard(single.string());
      for (const auto& [name, t] : f->header.tensors) file_of_[name] = f;
    } else {
      throw UserError("--weights " + dir + ": no model.safetensors or model.safetensors.index.json");
    }
  }

  void read(const std::string& name, const Block& b, real* out) const override {
    const auto it = file_of_.find(name);
    if (it == file_of_.end()) throw UserError("checkpoint " + dir_ + ": tensor " + name + " is missing");
    const ShardFile& f = *it->second;
    const auto t = f.header.tensors.find(name);
    if (t == f.header.tensors.end())
      throw UserError(f.path + ": tensor " + name + " is listed in the index but missing from the file");
    check_shape(name, t->second, b.shape);
    const size_t es = dtype_size(t->second.dtype);
    const int64_t ld = row_length(b);
    std::vector<unsigned char> buf(size_t(b.cols) * es);
    for (int64_t r = 0; r < b.rows; ++r) {
      const uint64_t off = f.header.data_start + t->second.begin + uint64_t((b.row0 + r) * ld + b.col0) * es;
      const ssize_t got = ::pread(f.fd, buf.data(), buf.size(), off_t(off));
      if (got != ssize_t(buf.size())) throw UserError(f.path + ": short read of tensor " + name + " (truncated file?)");
      convert_to_float(t->second.dtype, buf.data(), size_t(b.cols), out + r * b.cols);
    }
  }

  std::string describe() const override { return dir_; }
  std::string stored_dtype() const override {
    std::string common;
    for (const auto& [name, file] : file_of_) {
      const auto t = file->header.tensors.find(name);
      if (t == file->header.tensors.end() || t->second.shape.size() != 2) continue;
      const char* type = t->second.dtype == StDtype::BF16 ? "bf16" : t->second.dtype == StDtype::F16 ? "fp16" : "fp32";
      if (!common.empty() && common != type) return "";
      common = type;
    }
    return common;
  }
  std::vector<std::string> tensor_names() const override {
    std::vector<std::string> names;
    for (const auto& [name, file] : file_of_) names.push_back(name);
    return names;
  }

 private:
  ShardFile* open_shard(const std::string& path) {
    auto& slot = shards_[path];
    if (!slot) {
      if (!fs::is_regular_file(path)) throw UserError("checkpoint shard " + path + " is missing");
      slot = std::make_unique<ShardFile>();
      slot->path = path;
      slot->header = read_safetensors_header(path);
      slot->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (slot->fd < 0) throw UserError("cannot open " + path);
    }
    return slot.get();
  }

  void check_shape(const std::string& name, const StTensor& t, const std::vector<int64_t>& want) const {
    if (t.shape != want)
      throw UserError("checkpoint " + dir_ + ": tensor " + name + " has shape " + shape_str(t.shape) +
                      ", the config needs " + shape_str(want));
  }

  std::string dir_;
  std::map<std::string, std::unique_ptr<ShardFile>> shards_;
  std::map<std::string, ShardFile*> file_of_;
};

}  // namespace

std::unique_ptr<WeightSource> make_random_source(uint64_t seed, RandomInit init) {
  return std::make_unique<RandomSource>(seed, init);
}

std::unique_ptr<WeightSource> make_checkpoint_source(const std::string& dir) {
  return std::make_unique<CheckpointSource>(dir);
}

std::vector<std::pair<std::string, std::vector<int64_t>>> llama_tensor_shapes(const ModelConfig& c) {
  const int64_t d = c.hidden_size, dh = c.head_dim(), F = c.intermediate_size, V = c.vocab_size;
  std::vector<std::pair<std::string, std::vector<int64_t>>> s = {{"model.embed_tokens.weight", {V, d}},
                                                                 {"model.norm.weight", {d}}};
  if (!c.tie_word_embeddings) s.push_back({"lm_head.weight", {V, d}});  // tied: the embedding is the head
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    s.push_back({p + "input_layernorm.weight", {d}});
    s.push_back({p + "post_attention_layernorm.weight", {d}});
    const std::vector<std::pair<std::string, std::vector<int64_t>>> projections = {
        {"self_attn.q_proj", {c.num_heads * dh, d}}, {"self_attn.k_proj", {c.num_kv_heads * dh, d}},
        {"self_attn.v_proj", {c.num_kv_heads * dh, d}}, {"self_attn.o_proj", {d, c.num_heads * dh}},
        {"mlp.gate_proj", {F, d}}, {"mlp.up_proj", {F, d}}, {"mlp.down_proj", {d, F}}};
    for (const auto& [name, shape] : projections) {
      s.push_back({p + name + ".weight", shape});
      const bool biased = name == "self_attn.o_proj" ? c.o_bias : name.rfind("mlp.", 0) == 0 ? c.mlp_bias : c.qkv_bias;
      if (biased) s.push_back({p + name + ".bias", {shape[0]}});
    }
  }
  return s;
}

void validate_source(const WeightSource& src, const ModelConfig& cfg) {
  // Reading one element of each tensor runs the name and shape checks without loading anything.
  real one = 0;
  const auto expected = llama_tensor_shapes(cfg);
  for (const auto& [name, shape] : expected) {
    Block b;
    b.shape = shape;
    b.cols = 1;
    src.read(name, b, &one);
  }
  // A tensor the model would not read (a bias the config does not announce, a head next to tied
  // embeddings, another architecture's extra norms) means a model this app would compute wrongly.
  std::set<std::string> names;
  for (const auto& [name, shape] : expected) names.insert(name);
  for (const std::string& name : src.tensor_names())
    if (!names.count(name))
      throw UserError("checkpoint " + src.describe() + ": tensor " + name + " is not used by a " + cfg.model_type +
                      " model with this config.json (ladder-bench refuses tensors it would ignore)");
}

}  // namespace lb
