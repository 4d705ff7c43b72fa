#include "kernels/avx512.hpp"

namespace lb {

bool avx512_available() {
#ifdef LADDERBENCH_HOST_AVX512
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return avx512;
#else
  return false;
#endif
}

}  // namespace lb
