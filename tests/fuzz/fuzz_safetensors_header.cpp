// libFuzzer target: lb::parse_safetensors_header and the dtype converters on arbitrary bytes.
// A safetensors header comes from a file the user points us at, so any input must end in either a
// valid StHeader or lb::UserError. Anything else -- a sanitizer report, another exception, or a
// returned header that breaks the invariants checked below -- is a finding.
//
// Each input is used twice:
// - raw: bytes [0, 8) and [8, 16) are two little-endian u64 (a, b), the rest is the header text.
//   Mostly header_len = text size and file_size = 8 + header_len + some data bytes, as in a real
//   file, so the fuzzer spends its time past the size checks; 1 in 8 of a and b pass raw values
//   instead, to probe those checks and the offset arithmetic near 2^64.
// - structured (json_gen.hpp): the bytes pick a well-formed header with edge-case dims, dtypes
//   and offsets, consistent or not, and sizes to match.
#include "core/errors.hpp"
#include "fuzz_support.hpp"
#include "json_gen.hpp"
#include "io/safetensors.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace {

uint64_t load_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// What the parser promises for a header it accepts (src/io/safetensors.hpp).
void check_header(const lb::StHeader& h, uint64_t header_len, uint64_t file_size) {
  FUZZ_CHECK(h.data_start == 8 + header_len);
  FUZZ_CHECK(h.data_start <= file_size);
  const uint64_t data_size = file_size - h.data_start;
  fuzz::hint(0, h.tensors.size());
  for (const auto& [name, t] : h.tensors) {
    FUZZ_CHECK(name != "__metadata__");
    fuzz::hint(1, t.shape.size());
    fuzz::hint(2, t.end);
    for (const int64_t d : t.shape) fuzz::hint(3, uint64_t(d));
    FUZZ_CHECK(t.begin <= t.end && t.end <= data_size);
    // Recount the bytes with overflow checks: shape dims non-negative, product * dtype == extent.
    uint64_t bytes = lb::dtype_size(t.dtype);
    for (const int64_t d : t.shape) {
      FUZZ_CHECK(d >= 0);
      FUZZ_CHECK(!__builtin_mul_overflow(bytes, uint64_t(d), &bytes));
    }
    FUZZ_CHECK(t.end - t.begin == bytes);
  }
}

// Independent F16 decoder: sign * (1024 + man) * 2^(exp - 25), subnormals man * 2^-24.
float f16_reference(uint16_t h) {
  const int exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  float v;
  if (exp == 0x1F) v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else if (exp == 0) v = std::ldexp(float(man), -24);
  else v = std::ldexp(float(1024 + man), exp - 25);
  return (h & 0x8000) ? -v : v;
}

bool same_float(float x, float y) {
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  uint32_t a, b;
  std::memcpy(&a, &x, 4);
  std::memcpy(&b, &y, 4);
  return a == b;  // bitwise: also tells -0 from +0
}

// convert_to_float over the bytes, checked element by element against the definitions.
void check_converters(const uint8_t* p, size_t size) {
  for (const lb::StDtype d : {lb::StDtype::F32, lb::StDtype::BF16, lb::StDtype::F16}) {
    const size_t n = size / lb::dtype_size(d);
    std::vector<float> out(n);  // exactly n: ASan catches a write past it
    lb::convert_to_float(d, p, n, out.data());
    for (size_t i = 0; i < n; ++i) {
      if (d == lb::StDtype::F32) {
        FUZZ_CHECK(std::memcmp(&out[i], p + 4 * i, 4) == 0);
        continue;
      }
      const uint16_t h = uint16_t(p[2 * i] | (p[2 * i + 1] << 8));
      if (d == lb::StDtype::BF16) {
        uint32_t bits;
        std::memcpy(&bits, &out[i], 4);
        FUZZ_CHECK(bits == uint32_t(h) << 16);
        // bf16 -> f32 -> bf16 is the identity, NaNs staying NaN.
        const uint16_t back = lb::float_to_bf16(out[i]);
        FUZZ_CHECK(std::isnan(out[i]) ? std::isnan(lb::bf16_to_float(back)) : back == h);
      } else {
        FUZZ_CHECK(same_float(out[i], f16_reference(h)));
      }
    }
  }
}

void parse(const std::string& json, uint64_t header_len, uint64_t file_size) {
  try {
    const lb::StHeader h = lb::parse_safetensors_header(json, header_len, file_size, "fuzz.safetensors");
    check_header(h, header_len, file_size);
  } catch (const lb::UserError&) {
    // The one acceptable rejection.
  }
}

// A header as a writer would make it, tensors packed one after another, with any field possibly
// replaced by an edge case or by any JSON value.
void structured(FuzzedDataProvider& p) {
  static const char* const words[] = {"F32", "BF16", "F16", "I8", "F64", "dtype", "shape", "data_offsets",
                                      "__metadata__", "w", "b", "format", "pt"};
  nlohmann::json j = nlohmann::json::object();
  uint64_t end = 0;
  for (int n = p.ConsumeIntegralInRange(0, 4); n > 0; --n) {
    const char* dtype = p.PickValueInArray({"F32", "BF16", "F16", "F16", "I8"});
    uint64_t bytes = dtype[1] == '3' ? 4 : dtype[0] == 'I' ? 1 : 2;
    nlohmann::json shape = nlohmann::json::array();
    for (int r = p.ConsumeIntegralInRange(0, 4); r > 0; --r) {
      const uint64_t d = p.ConsumeBool() ? p.ConsumeIntegralInRange<uint64_t>(0, 8) : uint64_t(fuzz::edge_int(p));
      shape.push_back(d);
      bytes *= d;  // wraps like a careless writer would
    }
    nlohmann::json offsets = {end, end + bytes};
    if (p.ConsumeIntegralInRange(0, 7) == 0) offsets = {uint64_t(fuzz::edge_int(p)), uint64_t(fuzz::edge_int(p))};
    else end += bytes;
    nlohmann::json t = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}};
    if (p.ConsumeIntegralInRange(0, 7) == 0) t[p.PickValueInArray(words)] = fuzz::any_value(p, words);
    j[p.PickValueInArray({"w", "b", "__metadata__", "model.layers.0.mlp.up_proj.weight", ""})] =
        p.ConsumeIntegralInRange(0, 15) == 0 ? fuzz::any_value(p, words) : t;
  }
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const uint64_t header_len = p.ConsumeIntegralInRange(0, 7) == 0 ? uint64_t(fuzz::edge_int(p)) : text.size();
  const uint64_t file_size = p.ConsumeIntegralInRange(0, 7) == 0
                                 ? uint64_t(fuzz::edge_int(p))
                                 : 8 + header_len + end + p.ConsumeIntegralInRange<uint64_t>(0, 2) - 1;
  parse(text, header_len, file_size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t prefix[16] = {};
  std::memcpy(prefix, data, size < 16 ? size : 16);
  const uint64_t a = load_u64(prefix), b = load_u64(prefix + 8);
  const std::string json(reinterpret_cast<const char*>(data) + (size < 16 ? size : 16),
                         size < 16 ? 0 : size - 16);
  // 1 in 8: raw header_len / file_size (unsigned wrap-around included); otherwise file-like.
  const uint64_t header_len = (a & 7) == 0 ? a >> 3 : json.size();
  const uint64_t file_size = (b & 7) == 0 ? b >> 3 : 8 + header_len + (b >> 3);
  parse(json, header_len, file_size);
  check_converters(reinterpret_cast<const uint8_t*>(json.data()), json.size());

  FuzzedDataProvider p(data, size);
  structured(p);
  return 0;
}
