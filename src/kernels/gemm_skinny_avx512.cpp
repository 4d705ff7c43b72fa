// The decode-step GEMM on AVX-512 CPUs: y[T, n] = x[T, k] w[n, k]^T for T <= kSkinnyMaxRows.
//
// Why our own kernel: at decode a step multiplies a handful of token rows by every weight once,
// so its floor is the time to read the weights. Measured on a 2-core Xeon (AVX-512, 15 GB/s read
// per core; docs/measurement.md, "CPU decode GEMM"), over a 4-layer d=2048 model's projections,
// the packaged libraries reach that floor only for one or two rows: OpenBLAS 0.3.21 sgemm packs x
// and w and runs at 45% of the read bandwidth at T=4 (37% at T=16), BLIS 0.9 at 66% / 35%, oneDNN
// 2.6 at 48% / 41%, Eigen 3.4 at 22% / 19%. This kernel streams each weight row once for all T
// rows: ~100% at T=1, ~88% at T=4, and 67% at T=16 (88 GFLOP/s, 1.5x the T=1 time).
//
// How: the dot-product form on the weights' own [out, in] layout (no packing, no copy): a tile of
// kRows weight rows x up to kCols token rows keeps kRows * kCols 16-lane partial sums in registers
// (24 of the 32 zmm); each k-step loads the kCols x vectors, then one weight vector at a time for
// kCols FMAs each, so sums and operands fit the registers. With more than kCols token rows, k is
// walked in blocks of kKBlock so that the tile's weight rows stay in L1 for every block of token
// rows. At T=16 the FMAs alone (weights hot in L2) run at 122 GFLOP/s, 58 ms for this model, and
// the weights' read takes 57 ms: the step is their overlap, and the prefetch decides it. Every
// tile prefetches its weight rows 512 B ahead into L2 at every k-step, even where an earlier tile
// of the block already did (those are cheap hits): prefetching 2 KiB ahead from the first tile of
// a block alone left the step at 100 ms, 512 B from every tile 81 ms (T=8: 78 -> 66 ms, T=4
// 66 -> 62 ms; 128 B and 1 KiB ahead were slower, an L1 hint slower at T=16). Without prefetch
// the out-of-order window, full of FMAs, holds too few misses to keep the memory busy. The
// partial sums are reduced 16 at a time by a transpose-and-add tree (15 vector adds for 16 dot
// products); reducing each lane by lane cost 30% of a T=16 tile at k=2048.
//
// Full k-steps use plain loads, only the last step of a k that is not a multiple of 16 a masked
// one: GCC takes a masked load for a read of any memory, the sums' included, and then stores
// all kRows * kCols sums to the stack at every step (that halved the T=16 rate).
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
constexpr int kPrefetchFloats = 128;     // how far ahead (512 B) every tile prefetches its weight rows
constexpr int kKBlock = 256;             // k per block beyond kCols token rows: 6 KiB of weights, 16 KiB of x at T=16

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

// y[c, r] += x[c, kk:kk+16] . w[r, kk:kk+16] into acc[r * C + c], the lanes of the step's
// slice (m: which of them are in range; Full: all 16, read with plain loads).
template <int R, int C, bool Full>
inline void fma_step(const float* x, int64_t ldx, const float* w, int64_t ldw, int kk, __mmask16 m, __m512* acc) {
  const auto load = [m](const float* p) { return Full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p); };
  __m512 xv[C];
  for (int c = 0; c < C; ++c) xv[c] = load(x + c * ldx + kk);
  for (int r = 0; r < R; ++r) {
    const __m512 wv = load(w + r * ldw + kk);
    for (int c = 0; c < C; ++c) acc[r * C + c] = _mm512_fmadd_ps(wv, xv[c], acc[r * C + c]);
  }
}

// The 16-lane partial sums of x[c, 0:k] . w[r, 0:k] added to sums[16 (r * C + c) ...] (zero first when
// `first`), r < R, c < C.
template <int R, int C>
inline void tile(int k, const float* x, int64_t ldx, const float* w, int64_t ldw, float* sums, bool first) {
  // The loops over the R * C sums are unrolled by hand: GCC peels at most 16 iterations by itself,
  // and a loop it leaves indexes acc at run time, which puts acc on the stack, copied to and from
  // `sums` at every call (that cost a third of a T=16 step).
  __m512 acc[R * C];
#pragma GCC unroll 32
  for (int i = 0; i < R * C; ++i) acc[i] = first ? _mm512_setzero_ps() : _mm512_load_ps(sums + 16 * i);
  const int full = k & ~15;
  for (int kk = 0; kk < full; kk += 16) {
    for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(w + r * ldw + kk + kPrefetchFloats), _MM_HINT_T1);
    fma_step<R, C, true>(x, ldx, w, ldw, kk, __mmask16(0xFFFF), acc);
  }
  if (full < k) fma_step<R, C, false>(x, ldx, w, ldw, full, __mmask16((1u << (k - full)) - 1), acc);
#pragma GCC unroll 32
  for (int i = 0; i < R * C; ++i) _mm512_store_ps(sums + 16 * i, acc[i]);
}

// y[c, r] = the sum of the 16 floats at sums[16 (r * C + c)].
template <int R, int C>
inline void store_tile(const float* sums, float* y, int64_t ldy) {
  __m512 lanes[16];
  alignas(64) float out[16];
  for (int i0 = 0; i0 < R * C; i0 += 16) {
    for (int i = 0; i < 16; ++i) lanes[i] = i0 + i < R * C ? _mm512_load_ps(sums + 16 * (i0 + i)) : _mm512_setzero_ps();
    _mm512_store_ps(out, reduce16(lanes));
    for (int i = i0; i < R * C && i < i0 + 16; ++i) y[(i % C) * ldy + i / C] = out[i - i0];
  }
}

// One block of token rows: a kCols-row tile, or the C < kCols rows left over.
template <int R>
inline void token_tile(int C, int k, const float* x, int64_t ldx, const float* w, int64_t ldw, float* sums, bool first) {
  switch (C) {
    case 1: tile<R, 1>(k, x, ldx, w, ldw, sums, first); break;
    case 2: tile<R, 2>(k, x, ldx, w, ldw, sums, first); break;
    case 3: tile<R, 3>(k, x, ldx, w, ldw, sums, first); break;
    default: tile<R, kCols>(k, x, ldx, w, ldw, sums, first); break;
  }
}

template <int R>
inline void store_token_tile(int C, const float* sums, float* y, int64_t ldy) {
  switch (C) {
    case 1: store_tile<R, 1>(sums, y, ldy); break;
    case 2: store_tile<R, 2>(sums, y, ldy); break;
    case 3: store_tile<R, 3>(sums, y, ldy); break;
    default: store_tile<R, kCols>(sums, y, ldy); break;
  }
}

// R weight rows against T <= kSkinnyMaxRows token rows, kCols at a time. Up to kCols rows the
// tile runs over all of k; beyond, k goes in blocks of kKBlock, each block through every tile of
// token rows while its stretch of the R weight rows is in L1, the partial sums kept in `sums`.
template <int R>
inline void weight_rows(int T, int k, const float* x, int64_t ldx, const float* w, int64_t ldw, float* y,
                        int64_t ldy) {
  alignas(64) float sums[R * kSkinnyMaxRows * 16];
  const int block = T > kCols ? kKBlock : k;
  for (int k0 = 0; k0 < k; k0 += block)
    for (int t = 0; t < T; t += kCols)
      token_tile<R>(T - t < kCols ? T - t : kCols, k - k0 < block ? k - k0 : block, x + t * ldx + k0, ldx, w + k0,
                    ldw, sums + 16 * R * t, k0 == 0);
  for (int t = 0; t < T; t += kCols) store_token_tile<R>(T - t < kCols ? T - t : kCols, sums + 16 * R * t, y + t * ldy, ldy);
}

}  // namespace

void gemm_xwt_skinny_avx512(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const float* w,
                            int64_t ldw, float* y, int64_t ldy) {
  for (int t0 = 0; t0 < T; t0 += kSkinnyMaxRows) {  // more rows than that: groups of it (correct, not fast)
    const int rows = T - t0 < kSkinnyMaxRows ? T - t0 : kSkinnyMaxRows;
    const float* xt = x + t0 * ldx;
    float* yt = y + t0 * ldy;
    int64_t j = n0;
    for (; j + kRows <= n1; j += kRows) weight_rows<kRows>(rows, k, xt, ldx, w + j * ldw, ldw, yt + j, ldy);
    const float* wj = w + j * ldw;
    switch (n1 - j) {
      case 1: weight_rows<1>(rows, k, xt, ldx, wj, ldw, yt + j, ldy); break;
      case 2: weight_rows<2>(rows, k, xt, ldx, wj, ldw, yt + j, ldy); break;
      case 3: weight_rows<3>(rows, k, xt, ldx, wj, ldw, yt + j, ldy); break;
      case 4: weight_rows<4>(rows, k, xt, ldx, wj, ldw, yt + j, ldy); break;
      case 5: weight_rows<5>(rows, k, xt, ldx, wj, ldw, yt + j, ldy); break;
      default: break;
    }
  }
}

}  // namespace lb
