#include "safetensors_writer.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace lb::testing {
namespace {

struct Entry {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;
};

std::vector<unsigned char> encode(const std::vector<real>& v, StDtype dtype) {
  std::vector<unsigned char> out(v.size() * dtype_size(dtype));
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == StDtype::F32) {
      std::memcpy(&out[4 * i], &v[i], 4);
    } else {
      const uint16_t h = float_to_bf16(v[i]);
      std::memcpy(&out[2 * i], &h, 2);
    }
  }
  return out;
}

void write_file(const std::string& path, const std::vector<const Entry*>& entries, StDtype dtype) {
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  uint64_t offset = 0;
  for (const Entry* e : entries) {
    header[e->name] = {{"dtype", dtype == StDtype::F32 ? "F32" : "BF16"},
                       {"shape", e->shape},
                       {"data_offsets", {offset, offset + e->bytes.size()}}};
    offset += e->bytes.size();
  }
  std::string h = header.dump();
  h.resize((h.size() + 7) / 8 * 8, ' ');  // the data section starts 8-aligned, as safetensors pads
  std::ofstream out(path, std::ios::binary);
  const uint64_t len = h.size();
  for (int i = 0; i < 8; ++i) out.put(char((len >> (8 * i)) & 0xFF));
  out.write(h.data(), std::streamsize(h.size()));
  for (const Entry* e : entries) out.write(reinterpret_cast<const char*>(e->bytes.data()), std::streamsize(e->bytes.size()));
}

}  // namespace

void write_checkpoint(const std::string& dir, const ModelConfig& cfg, const WeightSource& src, StDtype dtype, int shards) {
  // bf16 is only written by these tests; F16 needs no writer (its reader is tested on known bits).
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << cfg.raw.dump(2);
  std::vector<Entry> entries;
  for (const auto& [name, shape] : llama_tensor_shapes(cfg)) {
    const int64_t rows = shape.size() == 1 ? 1 : shape[0], cols = shape.back();
    std::vector<real> v(size_t(rows * cols));
    src.read(name, Block{shape, 0, rows, 0, cols}, v.data());
    entries.push_back({name, shape, encode(v, dtype)});
  }
  if (shards <= 1) {
    std::vector<const Entry*> all;
    for (const auto& e : entries) all.push_back(&e);
    write_file(dir + "/model.safetensors", all, dtype);
    return;
  }
  nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
  for (int s = 0; s < shards; ++s) {
    char file[64];
    std::snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, shards);
    std::vector<const Entry*> mine;
    for (size_t i = size_t(s); i < entries.size(); i += size_t(shards)) {
      mine.push_back(&entries[i]);
      index["weight_map"][entries[i].name] = file;
    }
    write_file(dir + "/" + file, mine, dtype);
  }
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(2);
}

}  // namespace lb::testing
