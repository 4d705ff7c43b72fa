#include "model/rope.hpp"

#include <cmath>

namespace lb {

std::vector<double> rope_inv_freq(const ModelConfig& c) {
  const int64_t half = c.head_dim() / 2;
  std::vector<double> f(half);
  for (int64_t i = 0; i < half; ++i) f[i] = std::pow(c.rope_theta, -2.0 * double(i) / double(c.head_dim()));
  if (!c.rope_scaling.llama3) return f;
  // Hugging Face's _compute_llama3_parameters: wavelengths longer than the original context over
  // low_freq_factor are slowed down by `factor`, shorter than it over high_freq_factor are kept,
  // and the band between is interpolated smoothly.
  const RopeScaling& s = c.rope_scaling;
  const double old_len = double(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_len / s.low_freq_factor, high_freq_wavelen = old_len / s.high_freq_factor;
  for (double& x : f) {
    const double wavelen = 2 * M_PI / x;
    if (wavelen > low_freq_wavelen) {
      x /= s.factor;
    } else if (wavelen >= high_freq_wavelen) {
      const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      x = (1 - smooth) * x / s.factor + smooth * x;
    }
  }
  return f;
}

RopeTables make_rope_tables(const ModelConfig& c, int64_t positions) {
  const std::vector<double> inv = rope_inv_freq(c);
  const int64_t half = int64_t(inv.size());
  RopeTables t{Mat("rope_cos", positions, half), Mat("rope_sin", positions, half)};
  auto hc = Kokkos::create_mirror_view(t.cos);
  auto hs = Kokkos::create_mirror_view(t.sin);
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < half; ++i) {
      hc(p, i) = real(std::cos(double(p) * inv[i]));
      hs(p, i) = real(std::sin(double(p) * inv[i]));
    }
  Kokkos::deep_copy(t.cos, hc);
  Kokkos::deep_copy(t.sin, hs);
  return t;
}

}  // namespace lb
