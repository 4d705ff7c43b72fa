// The cuBLAS/NCCL storage type of a weight type (--dtype): one mapping for the GEMMs and the
// all-reduce wire of the GPU build.
#pragma once

#include "kernels/cuda/cublas_handle.hpp"
#include "core/weight_type.hpp"

namespace lb::cuda {

inline DType dtype_of(WeightType t) {
  switch (t) {
    case WeightType::BF16: return DType::BF16;
    case WeightType::F16: return DType::F16;
    case WeightType::F32: break;
  }
  return DType::F32;
}

}  // namespace lb::cuda
