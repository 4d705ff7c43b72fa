// Dispatched like the decode GEMM (kernels/cpu_isa.hpp): a scalar fp16 decode costs ~1 ns a
// weight, as much as a third of a 128-token prefill's GEMM time, where F16C or AVX-512 widen 16 a
// cycle.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/widen16.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include "kernels/widen16.hpp"

#include <stdexcept>

HWY_BEFORE_NAMESPACE();
namespace lb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class T>
void Widen(const T* HWY_RESTRICT in, float* HWY_RESTRICT out, int64_t n) {
  const hn::ScalableTag<float> d;
  const hn::Rebind<T, decltype(d)> d16;
  const int64_t N = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::PromoteTo(d, hn::LoadU(d16, in + i)), d, out + i);
  if (i < n) {  // the tail through a zero-padded copy
    HWY_ALIGN T tail_in[HWY_LANES(float)] = {};
    HWY_ALIGN float tail_out[HWY_LANES(float)];
    for (int64_t j = i; j < n; ++j) tail_in[j - i] = in[j];
    hn::Store(hn::PromoteTo(d, hn::Load(d16, tail_in)), d, tail_out);
    for (int64_t j = i; j < n; ++j) out[j] = tail_out[j - i];
  }
}

void WidenBF16(const uint16_t* in, float* out, int64_t n) {
  Widen(reinterpret_cast<const hwy::bfloat16_t*>(in), out, n);
}
void WidenF16(const uint16_t* in, float* out, int64_t n) { Widen(reinterpret_cast<const hwy::float16_t*>(in), out, n); }

}  // namespace HWY_NAMESPACE
}  // namespace lb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace lb {

HWY_EXPORT(WidenBF16);
HWY_EXPORT(WidenF16);

void widen_to_f32(DType type, const uint16_t* in, float* out, int64_t n) {
  switch (type) {
    case DType::BF16: HWY_DYNAMIC_DISPATCH(WidenBF16)(in, out, n); return;
    case DType::F16: HWY_DYNAMIC_DISPATCH(WidenF16)(in, out, n); return;
    case DType::F32: break;
  }
  throw std::logic_error("lb::widen_to_f32: the weights must be bf16 or fp16");
}

}  // namespace lb
#endif  // HWY_ONCE
