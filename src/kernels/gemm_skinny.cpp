// The decode-step GEMM: y[T, n] = x[T, k] w[n, k]^T for T <= kSkinnyMaxRows (kernels/gemm_skinny.hpp).
//
// Why our own kernel: at decode a step multiplies a handful of token rows by every weight once, so
// its floor is the time to read the weights. Measured on a 2-core Xeon (AVX-512, 15 GB/s read per
// core; docs/measurement.md, "CPU decode GEMM"), over a 4-layer d=2048 model's projections, the
// packaged libraries reach that floor only for one or two rows: OpenBLAS 0.3.21 sgemm packs x and w
// and runs at 45% of the read bandwidth at T=4 (37% at T=16), BLIS 0.9 at 66% / 35%, oneDNN 2.6 at
// 48% / 41%, Eigen 3.4 at 22% / 19%.
//
// Why Highway: one source compiled for every target of the architecture in this one file
// (foreach_target.h: x86-64 AVX-512, AVX2, SSE4, SSSE3 and scalar; Arm SVE2, SVE, NEON), the best
// one the CPU has picked at the first call (HWY_DYNAMIC_DISPATCH), a documented way to cap that
// choice (hwy::DisableTargets: LB_MAX_CPU_ISA) and to run each target in tests. xsimd 8 (Debian's
// other candidate) has no dispatcher of its own: one object per architecture flag and a hand-written
// CPUID switch. bf16/fp16 widening (PromoteTo) comes with both.
//
// How: the dot-product form on the weights' own [out, in] layout (no packing of w): a tile of 4
// weight rows x C token rows keeps 4C vector partial sums in registers; each k-step loads the C x
// vectors, then one weight vector at a time for C FMAs. C is at most 6 where the ISA has 32 vector
// registers (AVX-512, Arm), 3 where it has 16 (AVX2, SSE): 4C sums + C x + 1 w must fit. The token
// rows are split into near-equal groups of at most that (16 rows on AVX-512: 6 + 5 + 5), each group
// walking all of k while the tile's weight rows stay in L1/L2 for the next group. Measured on the
// Zen 4 EPYC this was written on (one core: 114.6 GFLOP/s FMA peak, 23-30 GB/s read), stream-cpu's
// projections (0.89 GB):
// - x is copied to rows of a padded pitch first when T > 1: at k = 2048 its rows are 8 KiB apart and
//   land in the same L1 sets as each other and the weight rows (k-step addresses a multiple of
//   4 KiB apart), which thrashed the 8-way L1 (T=16 with weights in L2: 71 -> 81 GFLOP/s);
// - the first token group prefetches the next tile's weight rows (4 rows ahead, into L2): each row
//   (8 KiB at d=2048) starts a new stream that the hardware prefetchers meet only after its first
//   misses; prefetching 512 B ahead in the same row, as the AVX-512 kernel before this did, left
//   T=1 at 73% of the STREAM read, 4 rows ahead 80-90%;
// - walking k in blocks with the partial sums kept in memory between them (that kernel's way of
//   keeping x in L1) was 10% slower at T=16 here than whole-k tiles;
// - the final sums: the 4 accumulators of a token row (its 4 output columns) are reduced together,
//   interleaved within 128-bit blocks and then the blocks added, into one 4-float store; scalable
//   vectors (SVE) and the scalar target reduce each alone.
// 16-bit weights: a load widens N bf16 (a shift) or fp16 (F16C's vcvtph2ps where the ISA has it)
// to fp32; accumulation stays fp32. The tail of k (k mod N) runs one more step on zero-padded copies.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm_skinny.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include "kernels/gemm_skinny.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

HWY_BEFORE_NAMESPACE();
namespace lb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

constexpr int kRows = kSkinnyColumnTile;  // weight rows per tile: one 128-bit store of 4 output columns a token row
static_assert(kRows == 4, "StoreSums4 and the tile's macros are written for 4 weight rows");
#if (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3) || HWY_ARCH_ARM_A64
constexpr int kCols = 6;  // 32 vector registers: 24 sums + 6 x + 1 w
#else
constexpr int kCols = 3;  // 16 vector registers: 12 sums + 3 x + 1 w
#endif

// N weights from p as fp32.
HWY_INLINE VF LoadWeights(DF d, const float* HWY_RESTRICT p) { return hn::LoadU(d, p); }
HWY_INLINE VF LoadWeights(DF d, const hwy::bfloat16_t* HWY_RESTRICT p) {
  return hn::PromoteTo(d, hn::LoadU(hn::Rebind<hwy::bfloat16_t, DF>(), p));
}
HWY_INLINE VF LoadWeights(DF d, const hwy::float16_t* HWY_RESTRICT p) {
  return hn::PromoteTo(d, hn::LoadU(hn::Rebind<hwy::float16_t, DF>(), p));
}

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
// The 128-bit blocks of v added together.
template <class D>
HWY_INLINE hn::Vec<hn::Full128<float>> AddBlocks(D d, hn::Vec<D> v) {
  if constexpr (hn::MaxLanes(D()) > 4) {
    const hn::Half<D> dh;
    return AddBlocks(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)));
  } else {
    (void)d;
    return v;
  }
}
#endif

// y[r] = the sum of the lanes of v_r, r < rows (<= 4).
HWY_INLINE void StoreSums4(VF v0, VF v1, VF v2, VF v3, int rows, float* HWY_RESTRICT y) {
  const DF d;
#if HWY_HAVE_SCALABLE || HWY_TARGET == HWY_SCALAR
  const float sums[kRows] = {hn::GetLane(hn::SumOfLanes(d, v0)), hn::GetLane(hn::SumOfLanes(d, v1)),
                             hn::GetLane(hn::SumOfLanes(d, v2)), hn::GetLane(hn::SumOfLanes(d, v3))};
  std::copy(sums, sums + rows, y);
#else
  // Per 128-bit block: (v0[0]+v0[2], v1[0]+v1[2], v0[1]+v0[3], v1[1]+v1[3]), the same of v2, v3;
  // their 64-bit halves interleaved and added give (v0, v1, v2, v3) partial sums in every block.
  const VF s01 = hn::Add(hn::InterleaveLower(d, v0, v1), hn::InterleaveUpper(d, v0, v1));
  const VF s23 = hn::Add(hn::InterleaveLower(d, v2, v3), hn::InterleaveUpper(d, v2, v3));
  const hn::Repartition<double, DF> dd;
  const VF lo = hn::BitCast(d, hn::InterleaveLower(dd, hn::BitCast(dd, s01), hn::BitCast(dd, s23)));
  const VF hi = hn::BitCast(d, hn::InterleaveUpper(dd, hn::BitCast(dd, s01), hn::BitCast(dd, s23)));
  const auto sums = AddBlocks(d, hn::Add(lo, hi));
  const hn::Full128<float> d4;
  if (rows == kRows) {
    hn::StoreU(sums, d4, y);
  } else {
    HWY_ALIGN float lanes[kRows];
    hn::Store(sums, d4, lanes);
    std::copy(lanes, lanes + rows, y);
  }
#endif
}

// One k-step of the tile: the C x vectors at XP (rows XS apart), then each weight row's vector at
// W0..W3 into that row's C sums. Macros, not a loop over arrays: Arm SVE vectors are sizeless and
// cannot be array elements, and named variables are what the compiler keeps in registers.
#define LB_SKINNY_STEP(XP, XS, W0, W1, W2, W3)                        \
  {                                                                   \
    const VF x0 = hn::LoadU(d, (XP));                                 \
    const VF x1 = C > 1 ? hn::LoadU(d, (XP) + (XS)) : x0;             \
    const VF x2 = C > 2 ? hn::LoadU(d, (XP) + 2 * (XS)) : x0;         \
    const VF x3 = C > 3 ? hn::LoadU(d, (XP) + 3 * (XS)) : x0;         \
    const VF x4 = C > 4 ? hn::LoadU(d, (XP) + 4 * (XS)) : x0;         \
    const VF x5 = C > 5 ? hn::LoadU(d, (XP) + 5 * (XS)) : x0;         \
    LB_SKINNY_ROW(0, W0) LB_SKINNY_ROW(1, W1) LB_SKINNY_ROW(2, W2) LB_SKINNY_ROW(3, W3) \
  }
#define LB_SKINNY_ROW(r, WP)                               \
  {                                                        \
    const VF wv = LoadWeights(d, (WP));                    \
    s##r##0 = hn::MulAdd(wv, x0, s##r##0);                 \
    if (C > 1) s##r##1 = hn::MulAdd(wv, x1, s##r##1);      \
    if (C > 2) s##r##2 = hn::MulAdd(wv, x2, s##r##2);      \
    if (C > 3) s##r##3 = hn::MulAdd(wv, x3, s##r##3);      \
    if (C > 4) s##r##4 = hn::MulAdd(wv, x4, s##r##4);      \
    if (C > 5) s##r##5 = hn::MulAdd(wv, x5, s##r##5);      \
  }
#define LB_SKINNY_SUMS(r) \
  VF s##r##0 = hn::Zero(d), s##r##1 = s##r##0, s##r##2 = s##r##0, s##r##3 = s##r##0, s##r##4 = s##r##0, s##r##5 = s##r##0;

// Which weights a tile prefetches: those `ahead` further on in each of its rows, at the k positions
// i with i % every == at (one of `groups` tiles over the same weight rows takes each line).
struct Prefetch {
  int64_t ahead;
  int every, at;
};

// y[c, r] = x[c, 0:k] . w_r[0:k] for c < C token rows (ldx, ldy apart) and r < rows of the weight
// rows w0..w3 (rows past `rows` repeat a valid row and are not stored), prefetching along the way.
template <int C, class W>
HWY_NOINLINE void Tile(int k, const float* HWY_RESTRICT x, int64_t ldx, const W* w0, const W* w1, const W* w2,
                       const W* w3, Prefetch pf, int rows, float* HWY_RESTRICT y, int64_t ldy) {
  const DF d;
  const int N = int(hn::Lanes(d));
  LB_SKINNY_SUMS(0) LB_SKINNY_SUMS(1) LB_SKINNY_SUMS(2) LB_SKINNY_SUMS(3)
  const int full = k - k % N;
  const int64_t ahead = pf.ahead;
  for (int i = 0; i < full; i += N) {
    if (i % pf.every == pf.at) {
      // Locality 2: into L2, not L1 (the next tile's rows would evict this one's). Once per line:
      // prefetches take load slots, which narrow vectors (AVX2: two steps per line) need.
      __builtin_prefetch(w0 + i + ahead, 0, 2);
      __builtin_prefetch(w1 + i + ahead, 0, 2);
      __builtin_prefetch(w2 + i + ahead, 0, 2);
      __builtin_prefetch(w3 + i + ahead, 0, 2);
    }
    LB_SKINNY_STEP(x + i, ldx, w0 + i, w1 + i, w2 + i, w3 + i)
  }
  if (full < k) {
    // The tail: zero-padded copies (zero bits are 0.0 in every weight type).
    HWY_ALIGN float xt[kCols * HWY_LANES(float)] = {};
    HWY_ALIGN W wt[kRows * HWY_LANES(float)] = {};
    for (int c = 0; c < C; ++c) std::copy(x + c * ldx + full, x + c * ldx + k, xt + c * N);
    const W* rows_w[kRows] = {w0, w1, w2, w3};
    for (int r = 0; r < kRows; ++r) std::copy(rows_w[r] + full, rows_w[r] + k, wt + r * N);
    LB_SKINNY_STEP(xt, N, wt, wt + N, wt + 2 * N, wt + 3 * N)
  }
  StoreSums4(s00, s10, s20, s30, rows, y);
  if (C > 1) StoreSums4(s01, s11, s21, s31, rows, y + ldy);
  if (C > 2) StoreSums4(s02, s12, s22, s32, rows, y + 2 * ldy);
  if (C > 3) StoreSums4(s03, s13, s23, s33, rows, y + 3 * ldy);
  if (C > 4) StoreSums4(s04, s14, s24, s34, rows, y + 4 * ldy);
  if (C > 5) StoreSums4(s05, s15, s25, s35, rows, y + 5 * ldy);
}
#undef LB_SKINNY_STEP
#undef LB_SKINNY_ROW
#undef LB_SKINNY_SUMS

// Rows in token group g of `groups` near-equal groups of T.
HWY_INLINE int GroupRows(int T, int groups, int g) { return T / groups + (g < T % groups ? 1 : 0); }

template <class W>
void Gemm(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const W* w, int64_t ldw, float* y,
          int64_t ldy) {
  if (T > 1) {  // x to a padded pitch: rows a multiple of 4 KiB apart thrash the L1 (top of file)
    thread_local std::vector<float> padded;
    const int64_t pitch = (int64_t(k) + 15) / 16 * 16 + 16;
    padded.resize(size_t(T * pitch));
    for (int t = 0; t < T; ++t) std::copy(x + t * ldx, x + t * ldx + k, padded.data() + t * pitch);
    x = padded.data();
    ldx = pitch;
  }
  for (int t0 = 0; t0 < T; t0 += kSkinnyMaxRows) {  // more rows than that: groups of it (correct, not fast)
    const int rows_t = std::min(T - t0, kSkinnyMaxRows);
    const int groups = (rows_t + kCols - 1) / kCols;
    constexpr int kLine = 64 / int(sizeof(W));  // weights per cache line
    for (int64_t j = n0; j < n1; j += kRows) {
      const int rows = int(std::min<int64_t>(n1 - j, kRows));
      const W* w0 = w + j * ldw;
      const W* w1 = w0 + (rows > 1 ? ldw : 0);
      const W* w2 = w0 + (rows > 2 ? 2 * ldw : 0);
      const W* w3 = w0 + (rows > 3 ? 3 * ldw : 0);
      for (int g = 0, t = t0; g < groups; t += GroupRows(rows_t, groups, g), ++g) {
        const float* xt = x + t * ldx;
        float* yt = y + t * ldy + j;
        // The next tile's rows (4 rows ahead), each line once, spread over the token groups: one
        // group taking them all issued them in a burst the memory could not serve.
        const Prefetch pf{kRows * ldw, kLine * groups, kLine * g};
        switch (GroupRows(rows_t, groups, g)) {
          case 1: Tile<1>(k, xt, ldx, w0, w1, w2, w3, pf, rows, yt, ldy); break;
          case 2: Tile<2>(k, xt, ldx, w0, w1, w2, w3, pf, rows, yt, ldy); break;
          case 3: Tile<3>(k, xt, ldx, w0, w1, w2, w3, pf, rows, yt, ldy); break;
          case 4: if constexpr (kCols >= 4) Tile<4>(k, xt, ldx, w0, w1, w2, w3, pf, rows, yt, ldy); break;
          case 5: if constexpr (kCols >= 5) Tile<5>(k, xt, ldx, w0, w1, w2, w3, pf, rows, yt, ldy); break;
          default: if constexpr (kCols >= 6) Tile<6>(k, xt, ldx, w0, w1, w2, w3, pf, rows, yt, ldy); break;
        }
      }
    }
  }
}

void GemmF32(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const float* w, int64_t ldw,
             float* y, int64_t ldy) {
  Gemm(T, n0, n1, k, x, ldx, w, ldw, y, ldy);
}
void GemmBF16(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const uint16_t* w, int64_t ldw,
              float* y, int64_t ldy) {
  Gemm(T, n0, n1, k, x, ldx, reinterpret_cast<const hwy::bfloat16_t*>(w), ldw, y, ldy);
}
void GemmF16(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const uint16_t* w, int64_t ldw,
             float* y, int64_t ldy) {
  Gemm(T, n0, n1, k, x, ldx, reinterpret_cast<const hwy::float16_t*>(w), ldw, y, ldy);
}
int64_t Target() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace lb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace lb {

HWY_EXPORT(GemmF32);
HWY_EXPORT(GemmBF16);
HWY_EXPORT(GemmF16);
HWY_EXPORT(Target);

void gemm_xwt_skinny(int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const float* w, int64_t ldw,
                     float* y, int64_t ldy) {
  HWY_DYNAMIC_DISPATCH(GemmF32)(T, n0, n1, k, x, ldx, w, ldw, y, ldy);
}

void gemm_xwt_skinny(DType type, int T, int64_t n0, int64_t n1, int k, const float* x, int64_t ldx, const uint16_t* w,
                     int64_t ldw, float* y, int64_t ldy) {
  switch (type) {
    case DType::BF16: HWY_DYNAMIC_DISPATCH(GemmBF16)(T, n0, n1, k, x, ldx, w, ldw, y, ldy); return;
    case DType::F16: HWY_DYNAMIC_DISPATCH(GemmF16)(T, n0, n1, k, x, ldx, w, ldw, y, ldy); return;
    case DType::F32: break;
  }
  throw std::logic_error("lb::gemm_xwt_skinny: 16-bit weights must be bf16 or fp16");
}

int64_t gemm_skinny_target() { return HWY_DYNAMIC_DISPATCH(Target)(); }

}  // namespace lb
#endif  // HWY_ONCE
