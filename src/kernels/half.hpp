// Host codecs between fp32 and the 16-bit weight types (bf16, fp16), round to nearest even, as
// cuBLAS and PyTorch round: used to store weights (--dtype) in both builds and by the tests. Plain
// C++ so that they need neither a device nor nvcc.
#pragma once

#include <cstdint>
#include <cstring>

namespace lb {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // NaN stays a (quiet) NaN
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline float from_bf16(uint16_t h) { return bits_f32(uint32_t(h) << 16); }

// Overflow gives +-inf, values below fp16's normal range become subnormals (or zero).
inline uint16_t to_f16(float f) {
  const uint32_t u = f32_bits(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to >= 65520: inf
  const int32_t exp = int32_t(a >> 23) - 127 + 15;
  uint32_t mant = (a & 0x7fffffu) | 0x800000u;  // with the implicit bit
  int32_t shift = 13;
  uint32_t h_exp = uint32_t(exp) << 10;
  if (exp <= 0) {  // subnormal: the implicit bit moves into the mantissa
    if (exp < -10) return sign;
    shift = 14 - exp;
    h_exp = 0;
  } else {
    mant &= 0x7fffffu;
  }
  uint32_t h = h_exp | (mant >> shift);
  const uint32_t rest = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
  if (rest > half || (rest == half && (h & 1u))) ++h;  // a carry into the exponent is still right
  return uint16_t(sign | h);
}
inline float from_f16(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const int32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = float(mant) * (1.0f / 16777216.0f);  // mant * 2^-24
    return sign ? -v : v;
  }
  if (exp == 31) return bits_f32(sign | 0x7f800000u | (mant << 13));
  return bits_f32(sign | (uint32_t(exp - 15 + 127) << 23) | (mant << 13));
}

}  // namespace lb
