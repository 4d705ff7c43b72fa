// The decode-step GEMM on AVX-512 CPUs: y[T, n] = x[T, k] w[n, k]^T for T <= kSkinnyMaxRows.
//
// Why our own kernel: at decode a step multiplies a handful of token rows by every weight once,
// so its floor is the time to read the weights. Measured on a 2-core Xeon (AVX-512, 15 GB/s read
// per core; docs/measurement.md, "Decode GEMM"), over a 4-layer d=2048 model's projections, the
// packaged libraries reach that floor only for one or two rows: OpenBLAS 0.3.21 sgemm packs x and
// w and runs at 28% of the read bandwidth at T=4 (16% at T=16), BLIS 0.9 at 66% / 35%, oneDNN 2.6
// at 48% / 41%, Eigen 3.4 at 22% / 19%. This kernel streams each weight row once for all T rows:
// 87% at T=4, 49% (compute-bound, 59 GFLOP/s) at T=16, 100% at T=1.
//
// How: the dot-product form on the weights' own [out, in] layout (no packing, no copy): a tile of
// kRows weight rows x up to kCols token rows keeps kRows * kCols 16-lane partial sums in registers
// (24 of the 32 zmm), each k-step loads kRows + kCols vectors for kRows * kCols FMAs. The weight
// rows are prefetched 2 KiB ahead into L2: without it the out-of-order window, full of FMAs, holds
// too few cache misses to keep the memory busy (T=4 ran at 62% of the read bandwidth). The partial
// sums are reduced 16 at a time by a transpose-and-add tree (15 vector adds for 16 dot products);
// reducing each lane by lane cost 30% of a T=16 tile at k=2048.
//
// This file is compiled with -mavx512f -mfma and must stay free of inline library code (only
// <immintrin.h>): an inline function emitted here with AVX-512 could be the copy the linker keeps
// for the whole program. Callers check avx512_available() first.
#include "kernels/avx512.hpp"

#include <immintrin.h>

namespace lb {
namespace {

constexpr int kRows = 6;                 // weight rows per tile
constexpr int kCols = 4;                 // token rows per tile
constexpr int kPrefetchFloats = 512;     // how far ahead (2 KiB) the weight rows are prefetched

// Lane i of the result: the sum of the 16 lanes of v[i].
inline __m512 reduce16(const __m512 v[16]) {
  // Each round adds two vectors' halves into one vector: 16 -> 8 -> 4 -> 2 -> 1 vectors, each
  // lane group of the survivors holding partial sums of one input, in input order.
  const __m512i lo8 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const __m512i hi8 = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  const __m512i lo4 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
  const __m512i hi4 = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  const __m512i lo2 = _mm512_setr_epi32(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
  const __m512i hi2 = _mm512_setr_epi32(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
  const __m512i lo1 = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  const __m512i hi1 = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  auto fold = [](__m512 a, __m512 b, __m512i lo, __m512i hi) {
    return _mm512_add_ps(_mm512_permutex2var_ps(a, lo, b), _mm512_permutex2var_ps(a, hi, b));
  };
  __m512 a[8], b[4], c[2];
  for (int i = 0; i < 8; ++i) a[i] = fold(v[i], v[i + 8], lo8, hi8);
  for (int i = 0; i < 4; ++i) b[i] = fold(a[i], a[i + 4], lo4, hi4);
  for (int i = 0; i < 2; ++i) c[i] = fold(b[i], b[i + 2], lo2, hi2);
  return fold(c[0], c[1], lo1, hi1);
}

// y[c, r] = x[c, :] . w[r, :] for r < R, c < C. `prefetch`: the tile that first reads these weight
// rows brings the next stretch of them in (the other tiles find them in cache).
template <int R, int C>
inline void tile(int k, const float* x, int64_t ldx, const float* w, int64_t ldw, float* y, int64_t ldy,
                 bool prefetch) {
  __m512 acc[R * C];
  for (int i = 0; i < R * C; ++i) acc[i] = _mm512_setzero_ps();
  for (int kk = 0; kk < k; kk += 16) {
    // The last step of a k that is not a multiple of 16 reads only the remaining lanes.
    const __mmask16 m = k - kk >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - kk)) - 1);
    __m512 wv[R], xv[C];
    for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_ps(m, w + r * ldw + kk);
    if (prefetch)
      for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(w + r * ldw + kk + kPrefetchFloats), _MM_HINT_T1);
    for (int c = 0; c < C; ++c) xv[c] = _mm512_maskz_loadu_ps(m, x + c * ldx + kk);
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r * C + c] = _mm512_fmadd_ps(wv[r], xv[c], acc[r * C + c]);
  }
  __m512 lanes[16];
  alignas(64) float sums[16];
  for (int i0 = 0; i0 < R * C; i0 += 16) {
    for (int i = 0; i < 16; ++i) lanes[i] = i0 + i < R * C ? acc[i0 + i] : _mm512_setzero_ps();
    _mm512_store_ps(sums, reduce16(lanes));
    for (int i = i0; i < R * C && i < i0 + 16; ++i) y[(i % C) * ldy + i / C] = sums[i - i0];
  }
}

// R weight rows against all T token rows, kCols at a time.
template <int R>
inline void weight_rows(int T, int k, const float* x, int64_t ldx, const float* w, int64_t ldw, float* y,
                        int64_t ldy) {
  int t = 0;
  for (; t + kCols <= T; t += kCols) tile<R, kCols>(k, x + t * ldx, ldx, w, ldw, y + t * ldy, ldy, t == 0);
  const bool first = t == 0;
  switch (T - t) {
    case 1: tile<R, 1>(k, x + t * ldx, ldx, w, ldw, y + t * ldy, ldy, first); break;
    case 2: tile<R, 2>(k, x + t * ldx, ldx, w, ldw, y + t * ldy, ldy, first); break;
    case 3: tile<R, 3>(k, x + t * ldx, ldx, w, ldw, y + t * ldy, ldy, first); break;
    default: break;
  }
}

}  // namespace

void gemm_xwt_skinny_avx512(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const float* w,
                            int64_t ldw, float* y, int64_t ldy) {
  int64_t j = n0;
  for (; j + kRows <= n1; j += kRows) weight_rows<kRows>(T, k, x, ldx, w + j * ldw, ldw, y + j, ldy);
  const float* wj = w + j * ldw;
  switch (n1 - j) {
    case 1: weight_rows<1>(T, k, x, ldx, wj, ldw, y + j, ldy); break;
    case 2: weight_rows<2>(T, k, x, ldx, wj, ldw, y + j, ldy); break;
    case 3: weight_rows<3>(T, k, x, ldx, wj, ldw, y + j, ldy); break;
    case 4: weight_rows<4>(T, k, x, ldx, wj, ldw, y + j, ldy); break;
    case 5: weight_rows<5>(T, k, x, ldx, wj, ldw, y + j, ldy); break;
    default: break;
  }
}

}  // namespace lb
