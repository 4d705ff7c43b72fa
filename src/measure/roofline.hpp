// Roofline ceilings of the machine a job runs on, measured in that job (docs/measurement.md):
// STREAM-like read, copy and triad bandwidth over Kokkos Views on the default execution space, and the
// rate of a large GEMM through gemm_xwt with weights stored as the run's (a GPU run in bf16/fp16
// goes through tensor cores: an fp32 GEMM's rate would not be its ceiling). On a GPU every trial
// is timed with CUDA events on Kokkos' stream. Every rank measures at the same time (a barrier, then
// all ranks run), so the numbers are what one rank gets while its peers load the same memory
// system, as in a tensor-parallel step; each trial's time is the max over ranks, the best trial
// counts.
#pragma once

#include "core/types.hpp"
#include "core/dtype.hpp"
#include "model/model_config.hpp"
#include "model/shard.hpp"

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// 4 x the host's last-level cache as the C library reports it (sysconf), at least 64 MiB.
int64_t host_stream_bytes();
// step's GEMM (`decode`) meets its weights once per step, so a trial cycles through copies of them
// and they come from memory; a prefill's reuses one copy (it is compute-bound).
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  bool decode = false;
  bool operator==(const GemmShape& o) const { return m == o.m && n == o.n && k == o.k && decode == o.decode; }
};

// Prefill GEMMs are measured at no more rows than this (their rate no longer depends on m).
constexpr int64_t kPrefillGemmRowsMax = 4096;

struct RooflineOptions {
#ifdef LADDERBENCH_CUDA
  // >> a GPU's L2 (50-60 MB), and long enough kernels (~0.3 ms on HBM3) that launch latency is noise.
  int64_t stream_bytes = int64_t(1) << 30;
#else
  // Bytes per array per rank: 4x the last-level cache, at least 64 MiB (a 64 MiB array sat in the
  // 260 MiB L3 of this project's CI machine and read at twice the memory's speed).
  int64_t stream_bytes = host_stream_bytes();
#endif
  int stream_trials = 10;                     // best of
  int64_t gemm_m = 2048, gemm_n = 2048, gemm_k = 2048;  // y[M,N] = x[M,K] w[N,K]^T
  int gemm_trials = 3;                                   // best of (plus one untimed warm-up)
  DType gemm_weights = DType::F32;             // the run's --dtype
  // The model's own GEMM shapes (model_gemm_shapes), each timed through gemm_xwt; empty: none.
  std::vector<GemmShape> model_gemms;
  // Weight bytes a decode GEMM's trial streams (copies of the weight matrix cycled through), so the
  // weights come from memory as in a decode step: the model's weights per rank, capped.
  int64_t model_gemm_stream_bytes = int64_t(64) << 20;
  // Rounds over all shapes, trials per shape and round (plus one untimed warm-up call per round):
  // best and median of rounds x trials.
  int model_gemm_rounds = 3, model_gemm_trials = 3;
};

// A model GEMM's time per call (each trial's time the max over ranks), and how it was measured.
struct GemmTiming {
  GemmShape shape;
  double best_s = 0, median_s = 0;  // seconds per gemm_xwt call: best and median trial
  int64_t calls = 1;                // calls per trial (decode: every copy; prefill: one)
  int64_t copies = 1;               // distinct weight copies taken in turn
};

struct Roofline {
  RooflineOptions options;
  int ranks = 1;
  // Per rank, all ranks running concurrently. Multiply by `ranks` for the whole job.
  double stream_read_Bps = 0;   // N * sizeof(real) / t       (sum a: the ceiling of decode's weight reads)
  double stream_copy_Bps = 0;   // 2 * N * sizeof(real) / t   (read a, write c)
  double stream_triad_Bps = 0;  // 3 * N * sizeof(real) / t   (read b, c; write a)
  double gemm_flops = 0;        // 2 * M * N * K / t
  double stream_read_s = 0, stream_copy_s = 0, stream_triad_s = 0, gemm_s = 0;  // best trial (max over ranks)
  std::vector<GemmTiming> model_gemms;                        // one per options.model_gemms
  std::string timer;  // how trials were timed: "cuda-events" (GPU) or "steady_clock" (host clock around a fence)
};

// The kernels, exposed for tests. Copy and triad are Kokkos parallel_fors and do not fence; read
// is a parallel_reduce returning the sum of a's elements (summed in double at the end).
double stream_read(const Vec& a);
void stream_copy(const Vec& c, const Vec& a);                   // c = a
void stream_triad(const Vec& a, const Vec& b, const Vec& c, real s);  // a = b + s * c

// The distinct GEMM shapes one rank runs (Transformer: fused QKV, o_proj, gate/up, down_proj, the
// parallel block's fused input, the LM head): decode steps at m = each batch (the LM head too;
// a prefill's LM head sees one row per sequence, the same shape), prefills at
// m = min(batch * prompt_len, kPrefillGemmRowsMax).
std::vector<GemmShape> model_gemm_shapes(const ModelConfig& cfg, const Shard& shard, const std::vector<int64_t>& batches,
                                         const std::vector<int64_t>& prompt_lens);

// Collective over `comm`: every rank must call it. Verifies the kernels' results (exact) and a
// GEMM element against a float64 dot product; throws std::runtime_error if either is wrong.
Roofline measure_roofline(MPI_Comm comm, const RooflineOptions& options = {});

}  // namespace lb
