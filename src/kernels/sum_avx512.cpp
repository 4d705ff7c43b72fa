// The roofline's read kernel on AVX-512 CPUs (kernels/avx512.hpp). Why not the portable Kokkos
// sum: one core's read bandwidth is bounded by how many cache lines it has in flight, and a loop
// of 16-byte loads (the baseline x86-64 build) keeps fewer lines in flight per instruction window
// than one 64-byte load per line: measured here 8-10 GB/s against 14-15 GB/s. The decode GEMM
// reads with full-width loads, so its ceiling must too. Compiled with -mavx512f; <immintrin.h> only
// (gemm_skinny_avx512.cpp says why).
#include "kernels/avx512.hpp"

#include <immintrin.h>

namespace lb {

double sum_avx512(const float* p, int64_t n) {
  // Four fp32 accumulators (four adds in flight cover the add latency), one 64-byte load per line,
  // emptied into a double every 64 Ki floats: a GiB of small values would overflow the exact range
  // of fp32 partial sums.
  constexpr int64_t kBlock = int64_t(1) << 16;
  double total = 0;
  alignas(64) float lanes[16];
  int64_t i = 0;
  while (i + 64 <= n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (const int64_t end = i + kBlock < n ? i + kBlock : n; i + 64 <= end; i += 64) {
      s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + i));
      s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p + i + 16));
      s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p + i + 32));
      s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p + i + 48));
    }
    _mm512_store_ps(lanes, _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    for (const float v : lanes) total += double(v);
  }
  for (; i < n; ++i) total += double(p[i]);
  return total;
}

}  // namespace lb
