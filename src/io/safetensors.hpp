// Reader for the safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lb {

enum class StDtype { F32, BF16, F16 };

struct StTensor {
  StDtype dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets, relative to the start of the data section
  uint64_t end = 0;
};

struct StHeader {
  uint64_t data_start = 0;  // absolute file offset of the data section
  std::map<std::string, StTensor> tensors;
};

// Validates the header bytes (JSON, dtypes, shapes, offsets within `file_size`); throws UserError
// naming `what` (the file) on any inconsistency. Pure function of its input, hence fuzzable.
StHeader parse_safetensors_header(const std::string& header_json, uint64_t header_len,
                                  uint64_t file_size, const std::string& what);

// Opens `path`, reads and validates its header.
StHeader read_safetensors_header(const std::string& path);

size_t dtype_size(StDtype d);
// Converts `n` little-endian elements of dtype `d` to float.
void convert_to_float(StDtype d, const unsigned char* src, size_t n, float* dst);

float bf16_to_float(uint16_t h);
float f16_to_float(uint16_t h);
uint16_t float_to_bf16(float f);  // round to nearest even, as PyTorch does

}  // namespace lb
