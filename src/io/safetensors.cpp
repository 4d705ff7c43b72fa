#include "io/safetensors.hpp"

#include "core/errors.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

namespace lb {
namespace {

StDtype parse_dtype(const std::string& s, const std::string& where) {
  if (s == "F32") return StDtype::F32;
  if (s == "BF16") return StDtype::BF16;
  if (s == "F16") return StDtype::F16;
  throw UserError(where + ": unsupported dtype \"" + s + "\" (expected F32, BF16 or F16)");
}

}  // namespace

size_t dtype_size(StDtype d) { return d == StDtype::F32 ? 4 : 2; }

float bf16_to_float(uint16_t h) {
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7FFF + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

float f16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t man = h & 0x3FF;
  if (exp == 0) {  // zero or subnormal: man * 2^-24
    const float v = std::ldexp(float(man), -24);
    return sign ? -v : v;
  }
  const uint32_t bits = exp == 0x1F ? (sign | 0x7F800000u | (man << 13))
                                    : (sign | ((exp + 112) << 23) | (man << 13));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void convert_to_float(StDtype d, const unsigned char* src, size_t n, float* dst) {
  if (n == 0) return;  // nothing to convert (and memcpy must not see a null pointer)
  switch (d) {
    case StDtype::F32:
      std::memcpy(dst, src, n * 4);  // the format is little-endian, as is every host we target
      return;
    case StDtype::BF16:
    case StDtype::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = d == StDtype::BF16 ? bf16_to_float(h) : f16_to_float(h);
      }
      return;
  }
}

StHeader parse_safetensors_header(const std::string& header_json, uint64_t header_len,
                                  uint64_t file_size, const std::string& what) {
  if (file_size < 8 || header_len > file_size - 8)
    throw UserError(what + ": truncated safetensors file (header length " + std::to_string(header_len) +
                    " exceeds file size " + std::to_string(file_size) + ")");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header_json);
  } catch (const nlohmann::json::exception& e) {  // also out_of_range: numbers beyond double
    throw UserError(what + ": corrupt safetensors header: " + e.what());
  }
  if (!j.is_object()) throw UserError(what + ": corrupt safetensors header: not a JSON object");
  StHeader h;
  h.data_start = 8 + header_len;
  const uint64_t data_size = file_size - h.data_start;
  for (const auto& [name, t] : j.items()) {
    if (name == "__metadata__") continue;
    const std::string tw = what + ": tensor " + name;
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets") ||
        !t["dtype"].is_string() || !t["shape"].is_array() || !t["data_offsets"].is_array() ||
        t["data_offsets"].size() != 2)
      throw UserError(tw + ": header entry needs dtype, shape and data_offsets [begin, end]");
    StTensor st;
    st.dtype = parse_dtype(t["dtype"].get<std::string>(), tw);
    uint64_t count = 1;
    for (const auto& s : t["shape"]) {
      if (!s.is_number_unsigned()) throw UserError(tw + ": shape must hold non-negative integers");
      const uint64_t dim = s.get<uint64_t>();
      if (dim > uint64_t(std::numeric_limits<int64_t>::max()) ||  // StTensor::shape is int64
          (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 16 / dim))
        throw UserError(tw + ": shape is too large");
      count *= dim;
      st.shape.push_back(int64_t(dim));
    }
    for (const auto& o : t["data_offsets"])
      if (!o.is_number_unsigned()) throw UserError(tw + ": data_offsets must be non-negative integers");
    st.begin = t["data_offsets"][0].get<uint64_t>();
    st.end = t["data_offsets"][1].get<uint64_t>();
    if (st.end < st.begin || st.end - st.begin != count * dtype_size(st.dtype))
      throw UserError(tw + ": data_offsets [" + std::to_string(st.begin) + ", " + std::to_string(st.end) +
                      ") do not match its shape and dtype (" + std::to_string(count * dtype_size(st.dtype)) +
                      " bytes)");
    if (st.end > data_size)
      throw UserError(tw + ": data ends at byte " + std::to_string(st.end) + " but the file holds only " +
                      std::to_string(data_size) + " data bytes (truncated file?)");
    h.tensors.emplace(name, std::move(st));
  }
  return h;
}

StHeader read_safetensors_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw UserError("cannot open " + path);
  const uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  unsigned char len_bytes[8] = {};
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8))
    throw UserError(path + ": truncated safetensors file (shorter than its 8-byte header length)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > file_size - 8)
    throw UserError(path + ": truncated safetensors file (header length " + std::to_string(header_len) +
                    " exceeds file size " + std::to_string(file_size) + ")");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), std::streamsize(header_len))) throw UserError(path + ": cannot read header");
  return parse_safetensors_header(header, header_len, file_size, path);
}

}  // namespace lb
