// Why a SIMD kernel rather than a portable loop: one core's read bandwidth is bounded by how many
// cache lines it has in flight, and a loop of narrower loads keeps fewer lines in flight per
// instruction window than full-width ones: on a 2-core Xeon 16-byte loads (the baseline x86-64
// build) read 8-10 GB/s against 14-15 GB/s with 64-byte loads. The decode GEMM reads with the
// widest loads its target has (the same Highway target: this file is dispatched alike), so its
// ceiling must too.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/stream_sum.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include "kernels/stream_sum.hpp"

HWY_BEFORE_NAMESPACE();
namespace lb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

double StreamSum(const float* p, int64_t n) {
  // Four accumulators (four adds in flight cover the add latency), emptied into a double every
  // 64 Ki floats: a GiB of small values would overflow the exact range of fp32 partial sums.
  const hn::ScalableTag<float> d;
  const int64_t N = int64_t(hn::Lanes(d));
  constexpr int64_t kBlock = int64_t(1) << 16;
  double total = 0;
  int64_t i = 0;
  while (i + 4 * N <= n) {
    auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
    for (const int64_t end = i + kBlock < n ? i + kBlock : n; i + 4 * N <= end; i += 4 * N) {
      s0 = hn::Add(s0, hn::LoadU(d, p + i));
      s1 = hn::Add(s1, hn::LoadU(d, p + i + N));
      s2 = hn::Add(s2, hn::LoadU(d, p + i + 2 * N));
      s3 = hn::Add(s3, hn::LoadU(d, p + i + 3 * N));
    }
    total += double(hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)))));
  }
  for (; i < n; ++i) total += double(p[i]);
  return total;
}

}  // namespace HWY_NAMESPACE
}  // namespace lb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace lb {

HWY_EXPORT(StreamSum);

double stream_sum(const float* p, int64_t n) { return HWY_DYNAMIC_DISPATCH(StreamSum)(p, n); }

}  // namespace lb
#endif  // HWY_ONCE
