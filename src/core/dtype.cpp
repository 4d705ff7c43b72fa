#include "core/dtype.hpp"

#include "core/errors.hpp"

namespace lb {

DType parse_dtype(const std::string& name) {
  if (name == "fp32") return DType::F32;
  if (name == "bf16") return DType::BF16;
  if (name == "fp16") return DType::F16;
  throw UserError("--dtype " + name + ": not one of fp32, bf16, fp16");
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "fp32";
    case DType::BF16: return "bf16";
    case DType::F16: return "fp16";
  }
  return "?";
}

int64_t dtype_bytes(DType t) { return t == DType::F32 ? 4 : 2; }

}  // namespace lb
