// The element-wise and attention kernels of a Llama block, as Kokkos parallel_fors over the
// central aliases in types.hpp. Each has a plain float64 reference in tests/reference_kernels.hpp
// and a test against it. GEMMs are not here: they go to a vendor BLAS (gemm.hpp).
#pragma once

#include "types.hpp"

namespace lb {

// The largest head dimension the attention kernel's per-thread accumulator holds (paper: <= 128).
constexpr int kMaxHeadDim = 256;

// x[t, :] = embed[tokens[b, s], :] with t = b * S + s.
inline void embed_tokens(const Tokens& tokens, const Mat& embed, const Mat& x) {
  const int64_t S = tokens.extent(1), d = embed.extent(1);
  Kokkos::parallel_for("embed_tokens", Range(0, int64_t(x.extent(0))), KOKKOS_LAMBDA(const int64_t t) {
    const int32_t id = tokens(t / S, t % S);
    for (int64_t i = 0; i < d; ++i) x(t, i) = embed(id, i);
  });
}

// out = x * rsqrt(mean(x^2) + eps) * w, row by row (Llama RMSNorm; statistics in fp32 as in HF).
inline void rms_norm(const Mat& x, const Vec& w, real eps, const Mat& out) {
  const int64_t d = x.extent(1);
  Kokkos::parallel_for("rms_norm", Range(0, int64_t(x.extent(0))), KOKKOS_LAMBDA(const int64_t t) {
    real ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += x(t, i) * x(t, i);
    const real scale = real(1) / kmath::sqrt(ss / real(d) + eps);
    for (int64_t i = 0; i < d; ++i) out(t, i) = x(t, i) * scale * w(i);
  });
}

// Rotary embedding in the Hugging Face convention (rotate_half over the two halves of each head),
// in place on the first `heads` heads of each row of qkv starting at column `col0`.
// cos_t/sin_t are [positions, head_dim/2]; token t = b*S + s sits at position pos0 + s.
inline void apply_rope(const Mat& qkv, int64_t col0, int64_t heads, int64_t head_dim, int64_t S,
                       int64_t pos0, const Mat& cos_t, const Mat& sin_t) {
  const int64_t half = head_dim / 2;
  const int64_t T = qkv.extent(0);
  Kokkos::parallel_for("apply_rope", Range(0, T * heads), KOKKOS_LAMBDA(const int64_t i) {
    const int64_t t = i / heads, h = i % heads;
    const int64_t pos = pos0 + t % S;
    const int64_t base = col0 + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      const real c = cos_t(pos, j), s = sin_t(pos, j);
      const real x1 = qkv(t, base + j), x2 = qkv(t, base + half + j);
      qkv(t, base + j) = x1 * c - x2 * s;
      qkv(t, base + half + j) = x2 * c + x1 * s;
    }
  });
}

// Appends this step's keys and values (columns [k_col0, ...) and [v_col0, ...) of qkv) to the
// cache at positions pos0 .. pos0+S-1.
inline void append_kv(const Mat& qkv, int64_t k_col0, int64_t v_col0, int64_t S, int64_t pos0,
                      const Cache& k_cache, const Cache& v_cache) {
  const int64_t kv_heads = k_cache.extent(1), head_dim = k_cache.extent(3);
  const int64_t T = qkv.extent(0);
  Kokkos::parallel_for("append_kv", Range(0, T * kv_heads), KOKKOS_LAMBDA(const int64_t i) {
    const int64_t t = i / kv_heads, h = i % kv_heads;
    const int64_t b = t / S, pos = pos0 + t % S;
    for (int64_t j = 0; j < head_dim; ++j) {
      k_cache(b, h, pos, j) = qkv(t, k_col0 + h * head_dim + j);
      v_cache(b, h, pos, j) = qkv(t, v_col0 + h * head_dim + j);
    }
  });
}

// Causal GQA attention of the local query heads over the cache. Query head h reads KV head
// h / (heads / kv_heads) (Hugging Face repeat_kv). One-pass online softmax, so no scratch the
// size of the sequence is needed. out[t, h*head_dim + j].
inline void causal_attention(const Mat& qkv, int64_t heads, int64_t S, int64_t pos0,
                             const Cache& k_cache, const Cache& v_cache, const Mat& out) {
  const int64_t kv_heads = k_cache.extent(1), head_dim = k_cache.extent(3);
  const int64_t group = heads / kv_heads;
  const int64_t T = qkv.extent(0);
  const real scale = real(1) / kmath::sqrt(real(head_dim));
  Kokkos::parallel_for("causal_attention", Range(0, T * heads), KOKKOS_LAMBDA(const int64_t i) {
    const int64_t t = i / heads, h = i % heads;
    const int64_t b = t / S, pos = pos0 + t % S, kh = h / group;
    real acc[kMaxHeadDim];
    for (int64_t j = 0; j < head_dim; ++j) acc[j] = 0;
    real running_max = -kmath::infinity<real>(), denom = 0;
    for (int64_t p = 0; p <= pos; ++p) {
      // Four partial sums: independent chains the CPU can overlap (a single float reduction is
      // one long dependency chain the compiler may not reorder).
      real s[4] = {0, 0, 0, 0};
      int64_t j = 0;
      for (; j + 4 <= head_dim; j += 4)
        for (int u = 0; u < 4; ++u) s[u] += qkv(t, h * head_dim + j + u) * k_cache(b, kh, p, j + u);
      for (; j < head_dim; ++j) s[0] += qkv(t, h * head_dim + j) * k_cache(b, kh, p, j);
      const real score = (s[0] + s[1] + s[2] + s[3]) * scale;
      if (score > running_max) {  // rescale what was accumulated under the old maximum
        const real correction = kmath::exp(running_max - score);
        denom *= correction;
        for (int64_t i = 0; i < head_dim; ++i) acc[i] *= correction;
        running_max = score;
      }
      const real weight = kmath::exp(score - running_max);
      denom += weight;
      for (int64_t i = 0; i < head_dim; ++i) acc[i] += weight * v_cache(b, kh, p, i);
    }
    for (int64_t j = 0; j < head_dim; ++j) out(t, h * head_dim + j) = acc[j] / denom;
  });
}

// SwiGLU: out = SiLU(g) * u, with gu = [g | u] (the fused gate/up projection's output).
inline void silu_mul(const Mat& gu, const Mat& out) {
  const int64_t f = out.extent(1);
  Kokkos::parallel_for("silu_mul", Range(0, int64_t(out.extent(0))), KOKKOS_LAMBDA(const int64_t t) {
    for (int64_t j = 0; j < f; ++j) {
      const real g = gu(t, j);
      out(t, j) = g / (real(1) + kmath::exp(-g)) * gu(t, f + j);
    }
  });
}

// x += y (the residual add).
inline void add_into(const Mat& x, const Mat& y) {
  const int64_t d = x.extent(1);
  Kokkos::parallel_for("add_into", Range(0, int64_t(x.extent(0))), KOKKOS_LAMBDA(const int64_t t) {
    for (int64_t i = 0; i < d; ++i) x(t, i) += y(t, i);
  });
}

// last[b, :] = x[b*S + S-1, :]: the hidden state at each sequence's last position.
inline void gather_last(const Mat& x, int64_t S, const Mat& last) {
  const int64_t d = x.extent(1);
  Kokkos::parallel_for("gather_last", Range(0, int64_t(last.extent(0))), KOKKOS_LAMBDA(const int64_t b) {
    for (int64_t i = 0; i < d; ++i) last(b, i) = x(b * S + S - 1, i);
  });
}

// Greedy decoding: next[b, 0] = argmax logits[b, :] (lowest index on ties), also stored at
// out(b, col).
inline void argmax_rows(const Mat& logits, const Tokens& next, const Tokens& out, int64_t col) {
  const int64_t V = logits.extent(1);
  Kokkos::parallel_for("argmax_rows", Range(0, int64_t(logits.extent(0))), KOKKOS_LAMBDA(const int64_t b) {
    int64_t best = 0;
    for (int64_t v = 1; v < V; ++v)
      if (logits(b, v) > logits(b, best)) best = v;
    next(b, 0) = int32_t(best);
    out(b, col) = int32_t(best);
  });
}

}  // namespace lb
