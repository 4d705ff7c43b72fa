// The element-wise and attention kernels of a Llama block, as Kokkos kernels over the central
// aliases in types.hpp. Each has a plain float64 reference in tests/support/reference_model.hpp
// and a test against it. GEMMs are not here: they go to a vendor BLAS (gemm.hpp).
//
// Written once for CPU and GPU: row-wise work (norms, argmax, attention) is a team per row with
// its threads over the row (Kokkos picks one thread per team on Serial, so the host loops stay
// plain contiguous loops), element-wise work is a 2-D range. Positions come from a device scalar
// (Position), not a kernel argument, so that one captured decode step can be replayed at every
// position (CUDA graphs, --cuda-graph).
#pragma once

#include "core/types.hpp"

#include <algorithm>
#include <type_traits>

namespace lb {

// The largest head dimension supported (paper: <= 128). Split attention cuts the keys into chunks
// of at most kMaxAttentionChunk (attention_chunks); a team keeps at most kAttentionScoresPerTeam
// scores in scratch at once (a block of keys times the query heads sharing a KV head).
constexpr int kMaxHeadDim = 256;
constexpr int64_t kMaxAttentionChunk = 4096;
constexpr int64_t kAttentionScoresPerTeam = 2048;

using TeamPolicy = Kokkos::TeamPolicy<ExecSpace, LightWeight>;
using Team = TeamPolicy::member_type;
using ScratchVec = Kokkos::View<real*, ExecSpace::scratch_memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
// Per (token, head, chunk) partial results of split attention: [T * heads, chunks, head_dim] sums
// of weighted values and [T * heads, chunks, 2] (max score, sum of exp(score - max)).
using AttentionPartials = Kokkos::View<real***, Kokkos::LayoutRight, MemSpace>;

// Compile-time guard of a kernel's functor size: light-weight launches pass it as a kernel
// argument (CUDA: at most 4 KiB, with Kokkos' own closure around it); a larger one would fall back
// to Kokkos' global-memory launch path. Half the limit leaves room for the policy.
template <class F>
constexpr void check_launch_size(const F&) {
  static_assert(sizeof(F) <= 2048, "kernel functor too large for a light-weight (kernel argument) launch");
}

// `gpu_threads` threads per team on a GPU, in vectors of `gpu_vector_length` lanes (a team thread
// is then that many lanes, which ThreadVectorRange spans); on the host Kokkos' choice (one thread
// on Serial and, in Kokkos 4, on OpenMP). The CMake option LADDERBENCH_HOST_TEAM_SIZE forces host
// teams of that many threads (at most the backend's): a test aid, so that an OpenMP build
// exercises the team reductions and barriers with real teams.
inline TeamPolicy team_policy(int64_t league, int gpu_threads, int gpu_vector_length = 1) {
#if defined(KOKKOS_ENABLE_CUDA)
  if constexpr (std::is_same_v<ExecSpace, Kokkos::Cuda>)
    return TeamPolicy(league, gpu_threads / gpu_vector_length, gpu_vector_length);
#endif
  (void)gpu_threads;
  (void)gpu_vector_length;
#ifdef LADDERBENCH_HOST_TEAM_SIZE
  const int threads = int(ExecSpace().concurrency());
  return TeamPolicy(league, LADDERBENCH_HOST_TEAM_SIZE < threads ? LADDERBENCH_HOST_TEAM_SIZE : threads);
#else
  return TeamPolicy(league, Kokkos::AUTO);
#endif
}

// f(row, col) for every element of a [rows, cols] array: on a GPU a thread per element (spread
// over the whole device even at batch 1), on the host a thread per row looping over the columns
// (a contiguous loop the compiler vectorizes). One body, two schedules.
template <class F>
void for_each_element(const char* name, int64_t rows, int64_t cols, const F& f) {
  check_launch_size(f);
#if defined(KOKKOS_ENABLE_CUDA)
  if constexpr (std::is_same_v<ExecSpace, Kokkos::Cuda>) {
    Kokkos::parallel_for(name, Range(0, rows * cols), KOKKOS_LAMBDA(const int64_t i) { f(i / cols, i % cols); });
    return;
  }
#endif
  Kokkos::parallel_for(name, Range(0, rows), KOKKOS_LAMBDA(const int64_t r) {
    for (int64_t c = 0; c < cols; ++c) f(r, c);
  });
}

// position() = value, as a kernel (ordered with the kernels around it, no host synchronization).
inline void set_position(const Position& position, int64_t value) {
  Kokkos::parallel_for("set_position", Range(0, 1), KOKKOS_LAMBDA(const int64_t) { position() = value; });
}

// x[t, :] = embed[tokens[b, s], :] with t = b * S + s.
inline void embed_tokens(const Tokens& tokens, const Mat& embed, const Mat& x) {
  const int64_t S = tokens.extent(1);
  for_each_element("embed_tokens", x.extent(0), x.extent(1), KOKKOS_LAMBDA(const int64_t t, const int64_t i) {
    x(t, i) = embed(tokens(t / S, t % S), i);
  });
}

// out = x * rsqrt(mean(x^2) + eps) * w, row by row (Llama RMSNorm; statistics in fp32 as in HF).
inline void rms_norm(const Mat& x, const Vec& w, real eps, const Mat& out) {
  const int64_t d = x.extent(1);
  Kokkos::parallel_for("rms_norm", team_policy(x.extent(0), 256), KOKKOS_LAMBDA(const Team& team) {
    const int64_t t = team.league_rank();
    real ss = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, d), [&](const int64_t i, real& acc) { acc += x(t, i) * x(t, i); }, ss);
    const real scale = real(1) / kmath::sqrt(ss / real(d) + eps);
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, d), [&](const int64_t i) { out(t, i) = x(t, i) * scale * w(i); });
  });
}

// Rotary embedding in the Hugging Face convention (rotate_half over the two halves of each head),
// in place on the first `heads` heads of each row of qkv starting at column `col0`.
// cos_t/sin_t are [positions, head_dim/2]; token t = b*S + s sits at position pos0() + s.
inline void apply_rope(const Mat& qkv, int64_t col0, int64_t heads, int64_t head_dim, int64_t S, const Position& pos0,
                       const Mat& cos_t, const Mat& sin_t) {
  const int64_t half = head_dim / 2;
  for_each_element("apply_rope", qkv.extent(0), heads * half, KOKKOS_LAMBDA(const int64_t t, const int64_t i) {
    const int64_t h = i / half, j = i % half, pos = pos0() + t % S;
    const int64_t lo = col0 + h * head_dim + j, hi = lo + half;
    const real c = cos_t(pos, j), s = sin_t(pos, j);
    const real x1 = qkv(t, lo), x2 = qkv(t, hi);
    qkv(t, lo) = x1 * c - x2 * s;
    qkv(t, hi) = x2 * c + x1 * s;
  });
}

// Appends this step's keys and values (columns [k_col0, ...) and [v_col0, ...) of qkv) to the
// cache at positions pos0() .. pos0()+S-1.
inline void append_kv(const Mat& qkv, int64_t k_col0, int64_t v_col0, int64_t S, const Position& pos0,
                      const Cache& k_cache, const Cache& v_cache) {
  const int64_t head_dim = k_cache.extent(3);
  const int64_t width = int64_t(k_cache.extent(1)) * head_dim;
  for_each_element("append_kv", qkv.extent(0), width, KOKKOS_LAMBDA(const int64_t t, const int64_t i) {
    const int64_t b = t / S, pos = pos0() + t % S, h = i / head_dim, j = i % head_dim;
    k_cache(b, h, pos, j) = qkv(t, k_col0 + i);
    v_cache(b, h, pos, j) = qkv(t, v_col0 + i);
  });
}

// How many chunks split attention cuts the keys of one (token, head) into: enough teams to fill
// the device (`concurrency` threads at `threads_per_team`), never chunks over kMaxAttentionChunk
// keys, never fewer than 64 keys per chunk. 1 on a CPU.
inline int64_t attention_chunks(int64_t rows, int64_t max_seq, int64_t concurrency, int64_t threads_per_team = 128) {
  const int64_t fill = (concurrency / threads_per_team + rows - 1) / rows;
  const int64_t most = std::max<int64_t>(1, (max_seq + 63) / 64);
  const int64_t least = (max_seq + kMaxAttentionChunk - 1) / kMaxAttentionChunk;
  return std::max(least, std::min(fill, most));
}

// a · b over n contiguous values by the calling team thread: on a GPU its vector lanes split the
// row four columns each (coalesced loads) and reduce; on the host (one lane) sixteen independent
// partial sums, which the compiler keeps in four SSE registers (one AVX-512): four chains of
// additions in flight, where four sums in one register left the scores of a batch-16 decode step
// waiting on one chain's latency.
KOKKOS_INLINE_FUNCTION real lane_dot(const Team& team, const real* a, const real* b, int64_t n) {
#if defined(KOKKOS_ENABLE_CUDA)
  if constexpr (std::is_same_v<ExecSpace, Kokkos::Cuda>) {
    real s = 0;
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(team, (n + 3) / 4),
        [&](const int64_t u, real& part) {
          for (int64_t j = 4 * u; j < 4 * u + 4 && j < n; ++j) part += a[j] * b[j];
        },
        s);
    return s;
  }
#endif
  (void)team;
  real s[16] = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int u = 0; u < 16; ++u) s[u] += a[j + u] * b[j + u];
  for (; j < n; ++j) s[0] += a[j] * b[j];
  for (int w = 8; w >= 1; w /= 2)
    for (int u = 0; u < w; ++u) s[u] += s[u + w];
  return s[0];
}

// On the host a team walks its K and V rows one after another, each read once, and the loads
// wait on memory unless the rows a few ahead are already on their way (measured: in a batch-16
// decode step of stream-cpu two thirds of the attention's samples sat on those two loads). On a GPU the
// warps in flight hide that latency; nothing is issued there.
KOKKOS_INLINE_FUNCTION void prefetch_rows_ahead(const real* row, int64_t head_dim) {
#if !defined(__CUDA_ARCH__)
  constexpr int64_t kRowsAhead = 8;
  for (int64_t j = 0; j < head_dim; j += int64_t(64 / sizeof(real)))
    __builtin_prefetch(row + kRowsAhead * head_dim + j);
#else
  (void)row;
  (void)head_dim;
#endif
}

// Causal GQA attention of the local query heads over the cache, split over the keys as in
// flash-decoding. Pass 1: a team per (token t, KV head kh, chunk c) serves the whole group of
// query heads that share kh (Hugging Face repeat_kv: query head h reads KV head h / group), so
// each K and V row is read once per group, not once per head. It walks its chunk's keys in blocks
// of at most `scores_per_team / group` keys (the block's scores live in team scratch) with an
// online softmax: per query head, a running maximum and sum of exp(score - max), and the weighted
// value sum rescaled whenever the maximum grows. On a GPU a team thread is a warp whose 32 lanes
// span the head dimension: scores read each K row coalesced (lane_dot: four columns per lane; on a
// CPU four partial sums), value rows are read coalesced. Pass 2 rescales the chunks to the
// global maximum and sums them. `partials` must be [T * heads, chunks, head_dim + 2].
// out[t, h*head_dim + j].
inline void causal_attention(const Mat& qkv, int64_t heads, int64_t S, const Position& pos0, const Cache& k_cache,
                             const Cache& v_cache, const AttentionPartials& partials, const Mat& out,
                             int64_t scores_per_team = kAttentionScoresPerTeam) {
  const int64_t kv_heads = k_cache.extent(1), max_seq = k_cache.extent(2), head_dim = k_cache.extent(3);
  const int64_t group = heads / kv_heads, chunks = partials.extent(1);
  const int64_t chunk = (max_seq + chunks - 1) / chunks;
  const int64_t block = std::max<int64_t>(1, std::min(chunk, scores_per_team / group));
  const int64_t T = qkv.extent(0);
  const real scale = real(1) / kmath::sqrt(real(head_dim));
  const int64_t sum_col = head_dim, max_col = head_dim + 1;
  // Scratch: the group's scaled queries and weighted value sums, a block's scores, and per query
  // head (running max, running sum, the factor the last block rescaled the earlier ones by).
  const size_t scratch = 2 * ScratchVec::shmem_size(group * head_dim) + ScratchVec::shmem_size(group * block) +
                         ScratchVec::shmem_size(3 * group);
  const auto policy = team_policy(T * kv_heads * chunks, 128, 32).set_scratch_size(0, Kokkos::PerTeam(scratch));
  // The largest functor of the model (eight views and the scalars): checked against the launch limit.
  const auto chunk_body = KOKKOS_LAMBDA(const Team& team) {
    const int64_t c = team.league_rank() % chunks, tk = team.league_rank() / chunks;
    const int64_t t = tk / kv_heads, kh = tk % kv_heads, b = t / S, row0 = t * heads + kh * group;
    const int64_t first = c * chunk, causal_end = pos0() + t % S + 1;
    const int64_t end = first + chunk < causal_end ? first + chunk : causal_end;
    ScratchVec q(team.team_scratch(0), group * head_dim), acc(team.team_scratch(0), group * head_dim);
    ScratchVec w(team.team_scratch(0), group * block), stat(team.team_scratch(0), 3 * group);
    // (query head g, column j) stays on one thread and lane in every phase below that touches acc
    // or stat, so only the phases that exchange data between threads need a barrier.
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, group), [&](const int64_t g) {
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, head_dim), [&](const int64_t j) {
        q(g * head_dim + j) = qkv(t, (kh * group + g) * head_dim + j) * scale;
        acc(g * head_dim + j) = 0;
      });
      Kokkos::single(Kokkos::PerThread(team), [&]() {
        stat(3 * g) = -kmath::infinity<real>();
        stat(3 * g + 1) = 0;
      });
    });
    team.team_barrier();
    for (int64_t k0 = first; k0 < end; k0 += block) {
      const int64_t n = end - k0 < block ? end - k0 : block;
      // Scores: a thread per key, its lanes over the key's row; the row serves every head of the
      // group. Rows are contiguous (LayoutRight), so plain pointers: the compiler then keeps the
      // index arithmetic out of the inner loop.
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](const int64_t k) {
        const real* key = &k_cache(b, kh, k0 + k, 0);
        prefetch_rows_ahead(key, head_dim);
        for (int64_t g = 0; g < group; ++g) {
          const real s = lane_dot(team, &q(g * head_dim), key, head_dim);
          Kokkos::single(Kokkos::PerThread(team), [&]() { w(g * block + k) = s; });
        }
      });
      team.team_barrier();
      // The block's softmax per query head (a thread per head, lanes over keys), folded into the
      // running statistics; the scores become exp(score - new max).
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, group), [&](const int64_t g) {
        real top = -kmath::infinity<real>();
        Kokkos::parallel_reduce(
            Kokkos::ThreadVectorRange(team, n),
            [&](const int64_t k, real& m) { m = w(g * block + k) > m ? w(g * block + k) : m; }, Kokkos::Max<real>(top));
        const real before = stat(3 * g), now = before > top ? before : top;
        real sum = 0;
        Kokkos::parallel_reduce(
            Kokkos::ThreadVectorRange(team, n),
            [&](const int64_t k, real& part) {
              const real e = kmath::exp(w(g * block + k) - now);
              w(g * block + k) = e;
              part += e;
            },
            sum);
        Kokkos::single(Kokkos::PerThread(team), [&]() {
          const real rescale = kmath::exp(before - now);  // 0 after the first block's -inf
          stat(3 * g) = now;
          stat(3 * g + 1) = stat(3 * g + 1) * rescale + sum;
          stat(3 * g + 2) = rescale;
        });
      });
      team.team_barrier();
      // Weighted values: a thread per query head walks the block's keys, its lanes over the value
      // row (contiguous on a CPU, coalesced on a GPU).
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, group), [&](const int64_t g) {
        const real rescale = stat(3 * g + 2);
        real* sum = &acc(g * head_dim);
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, head_dim), [&](const int64_t j) { sum[j] *= rescale; });
        for (int64_t k = 0; k < n; ++k) {
          const real wk = w(g * block + k);
          const real* value = &v_cache(b, kh, k0 + k, 0);
          if (g == 0) prefetch_rows_ahead(value, head_dim);  // the group's other heads find the rows in cache
          Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, head_dim), [&](const int64_t j) { sum[j] += wk * value[j]; });
        }
      });
      team.team_barrier();  // the next block's scores overwrite w
    }
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, group), [&](const int64_t g) {
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, head_dim),
                           [&](const int64_t j) { partials(row0 + g, c, j) = acc(g * head_dim + j); });
      Kokkos::single(Kokkos::PerThread(team), [&]() {
        partials(row0 + g, c, sum_col) = stat(3 * g + 1);  // 0 for a chunk past the causal limit
        partials(row0 + g, c, max_col) = stat(3 * g);
      });
    });
  };
  check_launch_size(chunk_body);
  Kokkos::parallel_for("causal_attention_chunks", policy, chunk_body);
  for_each_element("causal_attention_combine", T * heads, head_dim, KOKKOS_LAMBDA(const int64_t row, const int64_t j) {
    real top = -kmath::infinity<real>();
    for (int64_t c = 0; c < chunks; ++c) top = partials(row, c, max_col) > top ? partials(row, c, max_col) : top;
    real sum = 0, acc = 0;
    for (int64_t c = 0; c < chunks; ++c) {
      if (partials(row, c, sum_col) == real(0)) continue;  // a chunk past the causal limit
      const real f = kmath::exp(partials(row, c, max_col) - top);
      sum += f * partials(row, c, sum_col);
      acc += f * partials(row, c, j);
    }
    out(row / heads, (row % heads) * head_dim + j) = acc / sum;
  });
}

// SwiGLU: out = SiLU(g) * u, with [g | u] the columns [col0, col0 + 2 f) of `in` (the fused
// gate/up projection's output).
inline void silu_mul(const Mat& in, int64_t col0, const Mat& out) {
  const int64_t f = out.extent(1);
  for_each_element("silu_mul", out.extent(0), f, KOKKOS_LAMBDA(const int64_t t, const int64_t j) {
    const real g = in(t, col0 + j);
    out(t, j) = g / (real(1) + kmath::exp(-g)) * in(t, col0 + f + j);
  });
}

// x += y (the residual add).
inline void add_into(const Mat& x, const Mat& y) {
  for_each_element("add_into", x.extent(0), x.extent(1), KOKKOS_LAMBDA(const int64_t t, const int64_t i) { x(t, i) += y(t, i); });
}

// x = a·x + y: desync's stream before a kept all-reduce, partial + stream / P with a = 1/P (exact
// for a power-of-two P), so that the sum over ranks restores the stream once.
inline void scale_add_into(const Mat& x, real a, const Mat& y) {
  for_each_element("scale_add_into", x.extent(0), x.extent(1),
                   KOKKOS_LAMBDA(const int64_t t, const int64_t i) { x(t, i) = a * x(t, i) + y(t, i); });
}

// last[b, :] = x[b*S + S-1, :]: the hidden state at each sequence's last position.
inline void gather_last(const Mat& x, int64_t S, const Mat& last) {
  for_each_element("gather_last", last.extent(0), last.extent(1),
                   KOKKOS_LAMBDA(const int64_t b, const int64_t i) { last(b, i) = x(b * S + S - 1, i); });
}

// Greedy decoding: next[b, 0] = argmax logits[b, :] (lowest index on ties), also stored at
// out(b, col). Two team reductions per row: the maximum, then the first index holding it.
inline void argmax_rows(const Mat& logits, const Tokens& next, const Tokens& out, int64_t col) {
  const int64_t V = logits.extent(1);
  Kokkos::parallel_for("argmax_rows", team_policy(logits.extent(0), 256), KOKKOS_LAMBDA(const Team& team) {
    const int64_t b = team.league_rank();
    real top = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, V), [&](const int64_t v, real& m) { m = logits(b, v) > m ? logits(b, v) : m; },
        Kokkos::Max<real>(top));
    int64_t first = V;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, V), [&](const int64_t v, int64_t& i) { i = logits(b, v) == top && v < i ? v : i; },
        Kokkos::Min<int64_t>(first));
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      const int32_t id = first < V ? int32_t(first) : 0;  // V only if every logit is NaN
      next(b, 0) = id;
      out(b, col) = id;
    });
  });
}

}  // namespace lb
