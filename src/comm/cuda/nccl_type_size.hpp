// Bytes per element of an NCCL data type: what the emulated link charges an all-reduce for.
#pragma once

#include <nccl.h>

#include <cstddef>

namespace lb::cuda {

inline size_t nccl_type_size(ncclDataType_t type) {
  switch (type) {
    case ncclInt8:
    case ncclUint8:
      return 1;
    case ncclFloat16:
    case ncclBfloat16:
      return 2;
    case ncclInt64:
    case ncclUint64:
    case ncclFloat64:
      return 8;
    default:
      // ncclFloat8e4m3 = 10 and ncclFloat8e5m2 = 11 (newer NCCLs; by value so older headers compile)
      return int(type) == 10 || int(type) == 11 ? 1 : 4;
  }
}

}  // namespace lb::cuda
