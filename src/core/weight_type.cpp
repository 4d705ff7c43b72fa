#include "core/weight_type.hpp"

#include "core/errors.hpp"

namespace lb {

WeightType parse_weight_type(const std::string& name) {
  if (name == "fp32") return WeightType::F32;
  if (name == "bf16") return WeightType::BF16;
  if (name == "fp16") return WeightType::F16;
  throw UserError("--dtype " + name + ": not one of fp32, bf16, fp16");
}

const char* weight_type_name(WeightType t) {
  switch (t) {
    case WeightType::F32: return "fp32";
    case WeightType::BF16: return "bf16";
    case WeightType::F16: return "fp16";
  }
  return "?";
}

int64_t weight_type_bytes(WeightType t) { return t == WeightType::F32 ? 4 : 2; }

}  // namespace lb
