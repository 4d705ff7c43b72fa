// Every kernel of src/kernels/kernels.hpp and the GEMM against the float64 references; in the CPU
// build the GEMM and the STREAM read on every SIMD target this CPU runs, and the target choice.
#include "kernels/gemm.hpp"
#include "kernels/half.hpp"
#include "harness.hpp"
#include "kernels/kernels.hpp"
#include "reference_model.hpp"
#include "model/rope.hpp"

#include <gtest/gtest.h>

#include <tuple>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef LADDERBENCH_CUDA
#include "core/errors.hpp"
#include "kernels/cpu_isa.hpp"
#include "kernels/gemm_skinny.hpp"
#include "kernels/stream_sum.hpp"

#include <cstdlib>
#endif

namespace lb {
namespace {

using testing::random_values;
using testing::rel_l2;
using testing::to_device;
using testing::to_host;

constexpr double kTol = 1e-6;  // fp32 kernels vs float64 references on O(1) inputs

Position position(int64_t value) {
  Position p("position");
  set_position(p, value);
  return p;
}

// The targets the GEMM tests run on: in the CPU build every SIMD target compiled in that this CPU
// runs (kernels/cpu_isa.hpp), whichever machine CI lands on; the GPU build has one GEMM (0).
std::vector<int64_t> gemm_targets() {
#ifdef LADDERBENCH_CUDA
  return {0};
#else
  return runnable_cpu_targets();
#endif
}

class OnEachTarget : public ::testing::TestWithParam<int64_t> {
 protected:
#ifndef LADDERBENCH_CUDA
  void SetUp() override { force_cpu_target(GetParam()); }
  void TearDown() override { force_cpu_target(0); }
#endif
};

// Every token-row count of the decode kernel (1..16: its token groups of up to 6 or 3 rows and
// each remainder), the BLAS beyond it (17, 20, 33); k with and without a vector remainder (37 and
// 1029 for 4, 8 and 16 lanes; 256); n below one 4-row tile (2), with a tile remainder (19, 203) and
// without (24), and over several 96-column thread blocks (203).
TEST_P(OnEachTarget, GemmMatchesReference) {
  for (const int64_t k : {37, 256, 1029})
    for (const int64_t n : {2, 19, 24, 203}) {
      const auto w = random_values(n * k, 2);
      const Mat wd = to_device(w, n, k);
      for (const int64_t T : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 33}) {
        const auto x = random_values(T * k, 1);
        Mat y("y", T, n);
        gemm_xwt(to_device(x, T, k), wd, y);
        EXPECT_LT(rel_l2(to_host(y), ref::matmul_xwt(x, w, T, k, n)), kTol) << "T=" << T << " k=" << k << " n=" << n;
      }
    }
}

// The decode GEMM splits its output columns over the rank's compute threads (OpenMP; ctest runs
// with one): three threads, one range of columns each, at the decode kernel's row counts.
TEST_P(OnEachTarget, GemmSplitsOutputColumnsOverThreads) {
#ifndef _OPENMP
  GTEST_SKIP() << "a build without OpenMP (the GPU build: its GEMMs run on the device)";
#else
  const int threads_before = omp_get_max_threads();
  omp_set_num_threads(3);
  const int64_t k = 300, n = 1000;
  const auto w = random_values(n * k, 13);
  for (const int64_t T : {int64_t(1), int64_t(4), int64_t(16)}) {
    const auto x = random_values(T * k, 14);
    Mat y("y", T, n);
    gemm_xwt(to_device(x, T, k), to_device(w, n, k), y);
    EXPECT_LT(rel_l2(to_host(y), ref::matmul_xwt(x, w, T, k, n)), kTol) << "T = " << T;
  }
  omp_set_num_threads(threads_before);
#endif
}

// The weight types whose GEMM matches the float64 reference of its (rounded) weights at kTol: in the
// CPU build fp32 and the 16-bit types, which it widens exactly (the GPU build multiplies 16-bit
// inputs: tests/cuda); values as stored in each.
std::vector<DType> exact_weight_types() {
#ifdef LADDERBENCH_CUDA
  return {DType::F32};
#else
  return {DType::F32, DType::BF16, DType::F16};
#endif
}

Weight stored_weight(const std::vector<double>& w, int64_t n, int64_t k, DType t) {
  HostMat host("w", n, k);
  for (int64_t i = 0; i < n * k; ++i) host.data()[i] = float(w[size_t(i)]);
  return make_weight("w", host, t);
}

std::vector<double> as_stored(const std::vector<double>& w, DType t) {
  std::vector<double> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const float f = float(w[i]);
    out[i] = t == DType::BF16 ? from_bf16(to_bf16(f)) : t == DType::F16 ? from_f16(to_f16(f)) : f;
  }
  return out;
}

// The fused input projection's pieces: a row block of a weight, written into a column block of a
// wider output (row stride > columns), at T = 1, 5 and 16 (the decode kernel) and 40 (the BLAS;
// 16-bit weights: on rows widened to fp32); other columns untouched.
TEST_P(OnEachTarget, GemmOfAWeightRowBlockIntoAColumnBlock) {
  const int64_t k = 37, n_before = 3, n = 19, cols = n + 7, col0 = 4;
  for (const DType t : exact_weight_types()) {
    const auto w = random_values((n_before + n) * k, 11);
    const Weight block = weight_rows(stored_weight(w, n_before + n, k, t), n_before, n_before + n);
    ASSERT_EQ(block.rows(), n);
    const std::vector<double> stored = as_stored(w, t), w_block(stored.begin() + n_before * k, stored.end());
    for (const int64_t T : {int64_t(1), int64_t(5), int64_t(16), int64_t(40)}) {
      const auto x = random_values(T * k, 12);
      Mat y("y", T, cols);
      gemm_xwt(to_device(x, T, k), block, Kokkos::subview(y, Kokkos::ALL, std::make_pair(col0, col0 + n)));
      const auto got = to_host(y), expect = ref::matmul_xwt(x, w_block, T, k, n);
      std::vector<double> inside;
      for (int64_t r = 0; r < T; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          if (c >= col0 && c < col0 + n) inside.push_back(got[r * cols + c]);
          else EXPECT_EQ(got[r * cols + c], 0.0) << dtype_name(t) << " T=" << T << " column " << c;
        }
      EXPECT_LT(rel_l2(inside, expect), kTol) << dtype_name(t) << " T=" << T;
    }
  }
}

// 16-bit weights (the CPU build) are stored rounded and multiplied exactly widened: the GEMM of the
// rounded weights at every decode row count (the skinny kernel's widening loads), beyond it (the
// BLAS on widened blocks), with a k remainder and a tile remainder.
TEST_P(OnEachTarget, SixteenBitWeightGemmMatchesReference) {
  const std::vector<DType> types = exact_weight_types();
  for (const DType t : std::vector<DType>(types.begin() + 1, types.end()))
    for (const int64_t k : {37, 1029}) {
      const int64_t n = 203;
      const auto w = random_values(n * k, 5);
      const Weight stored = stored_weight(w, n, k, t);
      const std::vector<double> rounded = as_stored(w, t);
      EXPECT_GT(rel_l2(rounded, w), 0.0) << dtype_name(t) << ": not rounded?";
      for (const int64_t T : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 33}) {
        const auto x = random_values(T * k, 6);
        Mat y("y", T, n);
        gemm_xwt(to_device(x, T, k), stored, y);
        EXPECT_LT(rel_l2(to_host(y), ref::matmul_xwt(x, rounded, T, k, n)), kTol) << dtype_name(t) << " T=" << T << " k=" << k;
      }
    }
}

#ifndef LADDERBENCH_CUDA
// The skinny kernel itself: output columns [n0, n1) starting mid-tile, every row stride wider than
// its row (x, w and y blocks of wider matrices), and T beyond kSkinnyMaxRows (groups of 16: correct,
// not fast); the columns outside [n0, n1) untouched.
TEST_P(OnEachTarget, SkinnyKernelOnStridedBlocks) {
  const int k = 45, ldx = 50, ldw = 47;
  const int64_t n0 = 3, n1 = 30, ldy = 36;
  const auto w = random_values(size_t(n1 * ldw), 21);
  const std::vector<float> wf(w.begin(), w.end());
  for (const int T : {1, 6, 7, 16, 17, 33}) {
    const auto x = random_values(size_t(T * ldx), 22);
    const std::vector<float> xf(x.begin(), x.end());
    std::vector<float> y(size_t(T * ldy), -7.0f);
    gemm_xwt_skinny(T, n0, n1, k, xf.data(), ldx, wf.data(), ldw, y.data(), ldy);
    std::vector<double> got, expect;
    for (int t = 0; t < T; ++t)
      for (int64_t j = 0; j < ldy; ++j) {
        if (j < n0 || j >= n1) {
          EXPECT_EQ(y[t * ldy + j], -7.0f) << "T=" << T << " column " << j;
          continue;
        }
        double sum = 0;
        for (int i = 0; i < k; ++i) sum += x[t * ldx + i] * w[j * ldw + i];
        got.push_back(y[t * ldy + j]);
        expect.push_back(sum);
      }
    EXPECT_LT(rel_l2(got, expect), kTol) << "T=" << T;
  }
}

// The roofline's read kernel: exact on small integers (every partial sum is), with a tail that is
// not a whole number of vectors.
TEST_P(OnEachTarget, StreamSumIsExact) {
  std::vector<float> v(1000003);
  double expect = 0;
  for (size_t i = 0; i < v.size(); ++i) expect += v[i] = float(i % 7);
  EXPECT_EQ(stream_sum(v.data(), int64_t(v.size())), expect);
}
#endif

INSTANTIATE_TEST_SUITE_P(Targets, OnEachTarget, ::testing::ValuesIn(gemm_targets()),
                         [](const ::testing::TestParamInfo<int64_t>& info) {
#ifdef LADDERBENCH_CUDA
                           return std::string("device");
#else
                           const std::string name = cpu_isa_of(info.param);  // "sse4 (Highway SSSE3)"
                           const size_t from = name.find("Highway ") + 8;
                           return name.substr(from, name.find(')') - from);
#endif
                         });

#ifndef LADDERBENCH_CUDA
// Without a cap the kernels run the best target this CPU has (on x86-64 what its flags say), and
// each LB_MAX_CPU_ISA value the best at or below it.
TEST(CpuIsa, DispatchRunsTheBestTargetUnderTheCap) {
  const std::vector<int64_t> runnable = runnable_cpu_targets();  // best first
  ASSERT_FALSE(runnable.empty());
  set_max_cpu_isa("");
  EXPECT_EQ(gemm_skinny_target(), runnable.front());
#if defined(__x86_64__)
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (avx512) EXPECT_EQ(cpu_isa_of(gemm_skinny_target()).rfind("avx512 ", 0), 0u) << cpu_isa_of(gemm_skinny_target());
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    EXPECT_EQ(cpu_isa_of(gemm_skinny_target()).rfind("avx2 ", 0), 0u) << cpu_isa_of(gemm_skinny_target());
#endif
  int64_t allowed = 0;
  for (const CpuIsa& isa : cpu_isas()) {
    allowed |= isa.targets;
    set_max_cpu_isa(isa.name);
    int64_t expect = 0;
    for (const int64_t t : runnable)
      if (!expect && (t & allowed)) expect = t;
    if (&isa == &cpu_isas().back()) expect = runnable.front();  // the top: no cap
    EXPECT_EQ(gemm_skinny_target(), expect) << "LB_MAX_CPU_ISA=" << isa.name << ": " << cpu_isa_of(gemm_skinny_target());
  }
  set_max_cpu_isa("");
}

// The app reads the cap from the environment (select_cpu_kernels, at start-up); an unknown value
// is the user's error, naming the variable and every value it takes.
TEST(CpuIsa, TheCapComesFromLbMaxCpuIsa) {
  ASSERT_EQ(setenv("LB_MAX_CPU_ISA", "scalar", 1), 0);
  select_cpu_kernels();
  EXPECT_EQ(cpu_kernel_target().rfind("scalar (Highway ", 0), 0u) << cpu_kernel_target();
  ASSERT_EQ(setenv("LB_MAX_CPU_ISA", "avx9", 1), 0);
  try {
    select_cpu_kernels();
    ADD_FAILURE() << "LB_MAX_CPU_ISA=avx9 was accepted";
  } catch (const UserError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("LB_MAX_CPU_ISA=avx9"), std::string::npos) << message;
    for (const CpuIsa& isa : cpu_isas()) EXPECT_NE(message.find(isa.name), std::string::npos) << message;
  }
  ASSERT_EQ(unsetenv("LB_MAX_CPU_ISA"), 0);
  select_cpu_kernels();
  EXPECT_EQ(cpu_kernel_target(), cpu_isa_of(runnable_cpu_targets().front()));
}
#endif

TEST(Kernels, RmsNormMatchesReference) {
  const int64_t T = 4, d = 33;
  const auto x = random_values(T * d, 3), w = random_values(d, 4);
  Mat out("out", T, d);
  Mat wd = to_device(w, 1, d);
  rms_norm(to_device(x, T, d), Kokkos::subview(wd, 0, Kokkos::ALL), real(1e-5), out);
  EXPECT_LT(rel_l2(to_host(out), ref::rms_norm(x, w, T, d, 1e-5)), kTol);
}

TEST(Kernels, RopeMatchesHuggingFaceConvention) {
  // 2 sequences x 3 tokens at positions 4..6, 2 heads of width 8 starting at column 3 of 20.
  ModelConfig c;
  c.hidden_size = 16;
  c.num_heads = 2;
  c.rope_theta = 500000.0;
  const int64_t B = 2, S = 3, row = 20, col0 = 3, heads = 2, dh = 8, pos0 = 4;
  auto x = random_values(B * S * row, 5);
  Mat dev = to_device(x, B * S, row);
  const RopeTables tables = make_rope_tables(c, pos0 + S);
  apply_rope(dev, col0, heads, dh, S, position(pos0), tables.cos, tables.sin);
  std::vector<int64_t> positions;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) positions.push_back(pos0 + s);
  ref::rope(x, B * S, row, col0, heads, dh, positions, c.rope_theta);
  EXPECT_LT(rel_l2(to_host(dev), x), kTol);
}

// Split attention over 1 chunk (the CPU's choice), and over several, uneven and partly past the
// causal limit (a GPU's choice at small batch), must give the same result; so must a team that
// walks its chunk in blocks of a few keys (online softmax: the running maximum grows block by block)
// and GQA groups of 1 (MHA), 2 and 4 query heads per KV head. Head dims 6 and 9: the score loop's
// four-column steps end in a partial one.
struct AttentionCase {
  int64_t heads, kv_heads, head_dim, chunks, scores_per_team;
};

class CausalGqaAttention : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(CausalGqaAttention, MatchesReference) {
  // One sequence: 4 cached positions then a step of 3 new tokens. The cache has room for 2
  // positions more than are filled.
  const AttentionCase p = GetParam();
  const int64_t H = p.heads, K = p.kv_heads, dh = p.head_dim, past = 4, S = 3, Tk = past + S, max_seq = Tk + 2;
  const int64_t width = (H + 2 * K) * dh, k_col0 = H * dh, v_col0 = (H + K) * dh;
  const auto all = random_values(Tk * width, 6);
  Cache kc("k", 1, K, max_seq, dh), vc("v", 1, K, max_seq, dh);
  Mat qkv_past = to_device(std::vector<double>(all.begin(), all.begin() + past * width), past, width);
  Mat qkv_new = to_device(std::vector<double>(all.begin() + past * width, all.end()), S, width);
  append_kv(qkv_past, k_col0, v_col0, past, position(0), kc, vc);
  append_kv(qkv_new, k_col0, v_col0, S, position(past), kc, vc);
  Mat out("out", S, H * dh);
  causal_attention(qkv_new, H, S, position(past), kc, vc, AttentionPartials("partials", S * H, p.chunks, dh + 2), out,
                   p.scores_per_team);

  ref::Tensor q, k, v;
  for (int64_t t = 0; t < Tk; ++t)
    for (int64_t j = 0; j < width; ++j) {
      const double x = all[t * width + j];
      if (j < k_col0 && t >= past) q.push_back(x);
      else if (j >= k_col0 && j < v_col0) k.push_back(x);
      else if (j >= v_col0) v.push_back(x);
    }
  const auto expect = ref::causal_attention(q, k, v, S, Tk, H, K, dh, {4, 5, 6});
  EXPECT_LT(rel_l2(to_host(out), expect), kTol);
}

INSTANTIATE_TEST_SUITE_P(
    ChunksBlocksGroups, CausalGqaAttention,
    ::testing::Values(AttentionCase{4, 2, 6, 1, kAttentionScoresPerTeam}, AttentionCase{4, 2, 6, 2, kAttentionScoresPerTeam},
                      AttentionCase{4, 2, 6, 4, kAttentionScoresPerTeam}, AttentionCase{4, 2, 6, 9, kAttentionScoresPerTeam},
                      AttentionCase{4, 2, 6, 1, 2},    // blocks of 1 key
                      AttentionCase{4, 2, 6, 1, 6},    // blocks of 3 keys, the last one partial
                      AttentionCase{4, 2, 6, 2, 4},    // 2 chunks of 5 keys in blocks of 2
                      AttentionCase{8, 2, 9, 1, 8},    // group 4, blocks of 2 keys
                      AttentionCase{8, 2, 9, 3, kAttentionScoresPerTeam},
                      AttentionCase{3, 3, 9, 1, 2},    // MHA, blocks of 2 keys
                      AttentionCase{3, 3, 9, 2, kAttentionScoresPerTeam}));

TEST(Kernels, AttentionChunksFillTheDeviceWithinBounds) {
  EXPECT_EQ(attention_chunks(32, 1536, 1), 1);                 // a CPU thread: never split
  EXPECT_EQ(attention_chunks(32, 1536, 132 * 2048), 24);       // H100, batch 1: 64 keys per chunk
  EXPECT_EQ(attention_chunks(512, 1536, 132 * 2048), 5);       // batch 16: enough teams already
  EXPECT_EQ(attention_chunks(32768, 1536, 132 * 2048), 1);     // prefill
  EXPECT_EQ(attention_chunks(32768, 10000, 132 * 2048), 3);    // scores of <= 4096 keys per team
}

TEST(Kernels, SiluMulMatchesReference) {
  const int64_t T = 3, f = 11;
  const auto gu = random_values(T * 2 * f, 7);
  Mat out("out", T, f);
  silu_mul(to_device(gu, T, 2 * f), 0, out);
  EXPECT_LT(rel_l2(to_host(out), ref::silu_mul(gu, T, f)), kTol);
  // The same gate/up block at column 5 of a wider matrix (the fused input projection's output).
  std::vector<double> wide;
  for (int64_t t = 0; t < T; ++t) {
    for (int c = 0; c < 5; ++c) wide.push_back(100.0 + c);
    wide.insert(wide.end(), gu.begin() + t * 2 * f, gu.begin() + (t + 1) * 2 * f);
    wide.push_back(-100.0);
  }
  Mat out2("out2", T, f);
  silu_mul(to_device(wide, T, 2 * f + 6), 5, out2);
  EXPECT_EQ(to_host(out2), to_host(out));
}

TEST(Kernels, EmbedAddGatherArgmax) {
  const int64_t V = 7, d = 5, B = 2, S = 3;
  const auto table = random_values(V * d, 8);
  Tokens tok("tok", B, S);
  auto ht = Kokkos::create_mirror_view(tok);
  const int32_t ids[] = {3, 0, 6, 6, 2, 1};
  for (int i = 0; i < 6; ++i) ht.data()[i] = ids[i];
  Kokkos::deep_copy(tok, ht);
  Mat x("x", B * S, d);
  embed_tokens(tok, to_device(table, V, d), x);
  add_into(x, to_device(std::vector<double>(size_t(B * S * d), 1.0), B * S, d));
  Mat last("last", B, d);
  gather_last(x, S, last);
  const auto got = to_host(last);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(got[b * d + i], table[ids[b * S + S - 1] * d + i] + 1.0, 1e-6);

  Mat logits = to_device({0.1, 0.9, 0.9, -1.0, /* row 2 */ -3.0, -2.0, -5.0, -2.5}, 2, 4);
  Tokens next("next", 2, 1), out("out", 2, 3);
  argmax_rows(logits, next, out, 2);
  auto hn = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  EXPECT_EQ(hn(0, 2), 1);  // first of the tied maxima
  EXPECT_EQ(hn(1, 2), 1);
}

// Desync's stream before a kept all-reduce: x = a·x + y against float64; a = 1/P with P a power
// of two scales exactly, so the fp32 result is the correctly rounded float64 one.
TEST(Kernels, ScaleAddIntoMatchesReference) {
  const int64_t T = 3, d = 13;
  const auto x = random_values(T * d, 9), y = random_values(T * d, 10);
  for (const double a : {0.5, 0.25, 1.0 / 3}) {
    Mat out = to_device(x, T, d);
    scale_add_into(out, real(a), to_device(y, T, d));
    std::vector<double> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = a * x[i] + y[i];
    EXPECT_LT(rel_l2(to_host(out), want), kTol) << a;
  }
}

}  // namespace
}  // namespace lb
