// Roofline ceilings: the STREAM kernels compute the right thing, and the measurement (at small
// sizes, at np 1 and 2: all ranks concurrently) returns positive, self-consistent rates that
// store_roofline writes as root attributes.
#include "report/roofline_report.hpp"
#include "measure/step_calibration.hpp"
#include "comm/comm_backend.hpp"
#include "kernels/gemm.hpp"
#include "model/model_config.hpp"
#include "model/weight_source.hpp"
#include "model/transformer.hpp"
#include "model/weights.hpp"

#include "harness.hpp"
#include "io/results_file.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <filesystem>
#include <map>
#include <string>

namespace lb {
namespace {

// `r` written by store_roofline into a finalized results file in the temp dir; returns its path.
std::string stored_roofline(const Roofline& r, const std::string& stem) {
  const std::string path =
      (std::filesystem::temp_directory_path() / (stem + "-" + std::to_string(::getpid()) + ".h5")).string();
  ResultsFile f(path, true);
  store_roofline(f, r);
  f.finalize();
  return path;
}

TEST(Stream, TriadAndCopyValues) {
  const int64_t n = 10007;
  const auto bv = testing::random_values(size_t(n), 3), cv = testing::random_values(size_t(n), 4);
  Vec a("a", n), b("b", n), c("c", n), d("d", n);
  auto hb = Kokkos::create_mirror_view(b), hc = Kokkos::create_mirror_view(c);
  for (int64_t i = 0; i < n; ++i) {
    hb(i) = real(bv[size_t(i)]);
    hc(i) = real(cv[size_t(i)]);
  }
  Kokkos::deep_copy(b, hb);
  Kokkos::deep_copy(c, hc);
  const real s = real(3.0);
  stream_triad(a, b, c, s);
  stream_copy(d, b);
  Kokkos::fence();
  const auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a);
  const auto hd = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), d);
  for (int64_t i = 0; i < n; ++i) {
    // One rounding (or one fused multiply-add) away from the float64 value.
    const double want = double(hb(i)) + double(s) * double(hc(i));
    EXPECT_NEAR(double(ha(i)), want, 1e-6 * (std::abs(want) + 1)) << i;
    EXPECT_EQ(hd(i), hb(i)) << i;
  }
}

// The read kernel's sum over a length that is not a multiple of its lanes (the tail is added apart).
TEST(Stream, ReadSumsEveryElement) {
  const int64_t n = 10007;
  const auto av = testing::random_values(size_t(n), 5);
  Vec a("a", n);
  auto ha = Kokkos::create_mirror_view(a);
  double want = 0;
  for (int64_t i = 0; i < n; ++i) {
    ha(i) = real(av[size_t(i)]);
    want += double(ha(i));
  }
  Kokkos::deep_copy(a, ha);
  EXPECT_NEAR(stream_read(a), want, 1e-5 * n);
}

TEST(Stream, TriadExactOnSmallIntegers) {
  const int64_t n = 1000;
  Vec a("a", n), b("b", n), c("c", n);
  auto hb = Kokkos::create_mirror_view(b), hc = Kokkos::create_mirror_view(c);
  for (int64_t i = 0; i < n; ++i) {
    hb(i) = real(i % 13);
    hc(i) = real(i % 5) - 2;
  }
  Kokkos::deep_copy(b, hb);
  Kokkos::deep_copy(c, hc);
  stream_triad(a, b, c, real(0.25));
  const auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a);
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(ha(i), real(i % 13) + real(0.25) * (real(i % 5) - 2)) << i;
}

TEST(Roofline, MeasuresPositiveConsistentRatesOnEveryRank) {
  RooflineOptions o;
  o.stream_bytes = int64_t(8) << 20;
  o.stream_trials = 3;
  o.gemm_m = 256;
  o.gemm_n = 192;
  o.gemm_k = 320;
  o.gemm_trials = 2;
  const Roofline r = measure_roofline(MPI_COMM_WORLD, o);
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(r.ranks, size);
  for (double v : {r.stream_read_Bps, r.stream_copy_Bps, r.stream_triad_Bps, r.gemm_flops, r.stream_read_s,
                   r.stream_copy_s, r.stream_triad_s, r.gemm_s})
    EXPECT_TRUE(std::isfinite(v) && v > 0) << v;
  const double bytes = double(o.stream_bytes);
  EXPECT_DOUBLE_EQ(r.stream_read_Bps, bytes / r.stream_read_s);
  EXPECT_DOUBLE_EQ(r.stream_copy_Bps, 2 * bytes / r.stream_copy_s);
  EXPECT_DOUBLE_EQ(r.stream_triad_Bps, 3 * bytes / r.stream_triad_s);
  EXPECT_DOUBLE_EQ(r.gemm_flops, 2.0 * 256 * 192 * 320 / r.gemm_s);
  // Loose sanity bounds for any machine this runs on: 100 MB/s .. 100 TB/s, 100 MFLOP/s .. 10 PFLOP/s.
  EXPECT_GT(r.stream_triad_Bps, 1e8);
  EXPECT_LT(r.stream_triad_Bps, 1e14);
  EXPECT_GT(r.gemm_flops, 1e8);
  EXPECT_LT(r.gemm_flops, 1e16);
  // Every rank holds the same numbers (they are reduced over ranks).
  double mine[4] = {r.stream_read_Bps, r.stream_copy_Bps, r.stream_triad_Bps, r.gemm_flops}, lo[4], hi[4];
  MPI_Allreduce(mine, lo, 4, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(mine, hi, 4, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lo[i], hi[i]);

  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  const std::string path = stored_roofline(r, "ladderbench-roofline");
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  for (const auto& [name, want] : {std::pair<const char*, double>{"roofline_stream_read_Bps", r.stream_read_Bps},
                                   {"roofline_stream_copy_Bps", r.stream_copy_Bps},
                                   {"roofline_stream_triad_Bps", r.stream_triad_Bps},
                                   {"roofline_gemm_flops", r.gemm_flops}}) {
    double got = 0;
    const hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    ASSERT_GE(a, 0) << name;
    H5Aread(a, H5T_NATIVE_DOUBLE, &got);
    H5Aclose(a);
    EXPECT_EQ(got, want) << name;
  }
  for (const char* name : {"roofline_scope", "roofline_gemm_dtype", "roofline_timer"})
    EXPECT_GT(H5Aexists(file, name), 0) << name;
  H5Fclose(file);
  std::filesystem::remove(path);
}

// The GEMM ceiling is measured with the run's weight type (a GPU's bf16 GEMMs use tensor cores; the
// CPU's widen the weights), in both builds.
TEST(Roofline, GemmCeilingInTheRunsDType) {
  for (DType t : {DType::BF16, DType::F16}) {
    RooflineOptions o;
    o.stream_bytes = int64_t(1) << 20;
    o.stream_trials = 1;
    o.gemm_m = 64;
    o.gemm_n = 96;
    o.gemm_k = 128;
    o.gemm_trials = 1;
    o.gemm_weights = t;
    const Roofline r = measure_roofline(MPI_COMM_WORLD, o);
    EXPECT_TRUE(std::isfinite(r.gemm_flops) && r.gemm_flops > 0) << dtype_name(t);
    EXPECT_EQ(r.options.gemm_weights, t);
  }
}

// The model's GEMM shapes (the performance model's table): every weight matrix of one rank at
// m = each batch (decode, the LM head too) and m = batch * prompt (prefill, capped), no duplicates.
TEST(Roofline, ModelGemmShapesOfTheRun) {
  const ModelConfig c = load_model_config(testing::source_path("configs/models/demo-cpu"));
  const Shard shard = Shard::of(c, 0, 2);  // 8 heads, 8 KV heads, 1408 MLP columns of 64-wide heads
  const std::vector<GemmShape> got = model_gemm_shapes(c, shard, {1, 4}, {16, 8000});
  const int64_t q = (8 + 2 * 8) * 64;
  const std::vector<std::pair<int64_t, int64_t>> layer = {{q, 1024}, {1024, 512}, {2816, 1024}, {1024, 1408},
                                                          {q + 2816, 1024}};
  std::vector<GemmShape> want;
  for (int64_t b : {1, 4}) {
    for (const auto& [n, k] : layer) want.push_back({b, n, k, true});
    want.push_back({b, 8192, 1024, true});
  }
  for (int64_t m : {16, 4096, 64})  // 1*16, min(1*8000, 4096), 4*16; min(4*8000, 4096) again
    for (const auto& [n, k] : layer) want.push_back({m, n, k, false});
  EXPECT_EQ(got, want);
}

// Each model GEMM shape is timed (best <= median, both positive; a decode shape's trial calls every
// weight copy) and stored as /roofline/gemm, one row per shape in the order asked.
TEST(Roofline, MeasuresAndStoresTheModelGemms) {
  RooflineOptions o;
  o.stream_bytes = int64_t(1) << 20;
  o.stream_trials = 1;
  o.gemm_m = o.gemm_n = o.gemm_k = 32;
  o.gemm_trials = 1;
  o.model_gemms = {{1, 96, 64, true}, {3, 96, 64, true}, {40, 96, 64, false}, {2, 32, 48, true}};
  o.model_gemm_stream_bytes = 96 * 64 * 4 * 3;  // three copies of the 96x64 weights
  o.model_gemm_rounds = 2;
  o.model_gemm_trials = 2;
  const Roofline r = measure_roofline(MPI_COMM_WORLD, o);
  ASSERT_EQ(r.model_gemms.size(), o.model_gemms.size());
  for (size_t i = 0; i < o.model_gemms.size(); ++i) {
    const GemmTiming& t = r.model_gemms[i];
    EXPECT_EQ(t.shape, o.model_gemms[i]);
    EXPECT_TRUE(t.best_s > 0 && t.best_s <= t.median_s && std::isfinite(t.median_s)) << i;
    EXPECT_EQ(t.calls, t.shape.decode ? t.copies : 1) << i;
  }
  EXPECT_EQ(r.model_gemms[0].copies, 3);
  EXPECT_EQ(r.model_gemms[3].copies, 12);  // 32x48 weights: 73728 bytes / 6144 bytes per copy
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  const std::string path = stored_roofline(r, "ladderbench-roofline-gemm");
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const auto read = [&](const char* name, hid_t type, void* out) {
    const hid_t d = H5Dopen2(file, (std::string("roofline/gemm/") + name).c_str(), H5P_DEFAULT);
    ASSERT_GE(d, 0) << name;
    EXPECT_GE(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), 0) << name;
    H5Dclose(d);
  };
  int64_t m[4], decode[4];
  double median[4], best[4];
  read("m", H5T_NATIVE_INT64, m);
  read("decode", H5T_NATIVE_INT64, decode);
  read("time_s", H5T_NATIVE_DOUBLE, median);
  read("time_best_s", H5T_NATIVE_DOUBLE, best);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(m[i], o.model_gemms[i].m);
    EXPECT_EQ(decode[i], o.model_gemms[i].decode ? 1 : 0);
    EXPECT_EQ(median[i], r.model_gemms[i].median_s);
    EXPECT_EQ(best[i], r.model_gemms[i].best_s);
  }
  H5Fclose(file);
  std::filesystem::remove(path);
}

// The cell's calibration times exactly the GEMM shapes the roofline lists for the cell (the
// model's own weight matrices: calls = copies = the layers, 1 for the LM head), one sample per
// round, every other kernel of the replayed decode step as often as a step calls it, at TP > 1
// the hand-off of a decode all-reduce and the wait after it, through the Comm it is given without
// the model's emulated link (and at TP 1 none), and store_step_calibration writes it with the cell
// as /roofline/step/<cell>.
// Rank 0 computes its modules in 1, 3, 2, 2 s, rank 1 in 2, 2, 2, 2: each forward takes 8 s, but
// synchronised after every module the ranks take 2 + 3 + 2 + 2 = 9 s, 0.25 s per sync; after every
// two modules (4 + 4 on both) nothing; one rank never waits.
// The calibration's allreduce_bytes is what the all-reduce moves: its elements in the wire type,
// 2 bytes in a 16-bit GPU model, so that the performance model finds its table at that size.
TEST(StepCalibration, AllreduceBytesAreInTheWireType) {
  struct Wire final : Comm {
    std::string type;
    explicit Wire(std::string t) : type(std::move(t)) {}
    int rank() const override { return 0; }
    int size() const override { return 1; }
    std::string name() const override { return "wire"; }
    std::string wire_type() const override { return type; }
    Ticket start_allreduce(real*, size_t, int64_t) override { return 0; }
    void wait(Ticket) override {}
  };
  EXPECT_EQ(Wire("fp32").wire_bytes(4096), 16384);
  EXPECT_EQ(Wire("bf16").wire_bytes(4096), 8192);
  EXPECT_EQ(Wire("fp16").wire_bytes(3), 6);
}

TEST(StepCalibration, RankSkewIsWhatSyncsAddToTheSlowestForward) {
  const std::vector<std::vector<double>> two = {{1, 3, 2, 2}, {2, 2, 2, 2}};
  EXPECT_DOUBLE_EQ(rank_skew_per_sync(two, 1), 0.25);
  EXPECT_DOUBLE_EQ(rank_skew_per_sync(two, 2), 0.0);
  EXPECT_DOUBLE_EQ(rank_skew_per_sync({{1, 3, 2, 2}}, 1), 0.0);
  // A rank slower in every module holds the skew in its own forward: no extra cost.
  EXPECT_DOUBLE_EQ(rank_skew_per_sync({{1, 1, 1, 1}, {2, 3, 2, 2}}, 1), 0.0);
}

TEST(StepCalibration, TimesTheCellsShapesOnTheModelsOwnWeights) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const ModelConfig cfg = load_model_config(testing::source_path("configs/models/tiny"));
  const Shard shard = Shard::of(cfg, rank, size);
  // The model's all-reduces take 50 ms more on an emulated link; the calibration's must not.
  constexpr double kLinkUs = 50000;
  auto comm = make_backend_comm(MPI_COMM_WORLD, LinkModel{kLinkUs, 0}, 60, DType::F32);
  auto link_free = make_backend_comm(MPI_COMM_WORLD, LinkModel{}, 60, DType::F32);
  Transformer model(cfg, shard, load_weights(cfg, shard, *make_random_source(5)), *comm);
  const Cell cell{3, 4, 6};
  model.reserve(cell.batch, cell.prompt_len, cell.prompt_len + cell.gen_len - 1);
  StepCalibrator calibrator(model, cell, *link_free);
  EXPECT_EQ(calibrator.result(MPI_COMM_WORLD).rounds, 0);
  for (int r = 0; r < 3; ++r) calibrator.round(MPI_COMM_WORLD);
  const StepCalibration c = calibrator.result(MPI_COMM_WORLD);
  ASSERT_EQ(c.rounds, 3);
  const std::vector<GemmTiming>& t = c.gemms;
  std::vector<GemmShape> want = model_gemm_shapes(cfg, shard, {cell.batch}, {cell.prompt_len}), got;
  for (const GemmTiming& g : t) got.push_back(g.shape);
  auto order = [](const GemmShape& a, const GemmShape& b) {
    return std::tie(a.decode, a.m, a.n, a.k) < std::tie(b.decode, b.m, b.n, b.k);
  };
  std::sort(want.begin(), want.end(), order);
  std::sort(got.begin(), got.end(), order);
  got.erase(std::unique(got.begin(), got.end()), got.end());  // tiny at TP 2: QKV and down_proj are both 64x64
  EXPECT_EQ(got, want);
  ASSERT_EQ(t.size(), 11u);  // decode: QKV, o_proj, gate/up, down_proj, LM head, fused input; prefill: all but the LM head
  for (size_t i = 0; i < t.size(); ++i) {
    const GemmTiming& g = t[i];
    EXPECT_EQ(g.shape.decode, i < 6) << i;
    EXPECT_EQ(g.shape.m, i < 6 ? cell.batch : cell.batch * cell.prompt_len) << i;
    EXPECT_TRUE(g.best_s > 0 && g.best_s <= g.median_s && std::isfinite(g.median_s)) << i;
    EXPECT_EQ(g.calls, i == 4 ? 1 : cfg.num_layers) << i;
    EXPECT_EQ(g.copies, g.calls) << i;
  }
  // The replayed forwards' other kernels, each seen as often as a forward calls it; attention with
  // the mean decode step's keys and the prefill's last query's.
  const int64_t L = cfg.num_layers;
  const std::map<std::string, int64_t> want_calls = {
      {"embed_tokens", 1}, {"rms_norm", 2 * L + 1}, {"apply_rope", L},  {"append_kv", L},
      {"causal_attention", L}, {"silu_mul", L}, {"add_into", 2 * L}, {"gather_last", 1}};
  for (const bool decode : {true, false}) {
    std::map<std::string, int64_t> got_calls;
    for (const KernelTiming& k : c.kernels) {
      if (k.decode != decode) continue;
      got_calls[k.name] = k.calls;
      EXPECT_EQ(k.rows, decode ? cell.batch : cell.batch * cell.prompt_len) << k.name;
      EXPECT_TRUE(k.best_s > 0 && k.best_s <= k.median_s && std::isfinite(k.median_s)) << k.name;
      const int64_t keys = decode ? cell.prompt_len + (cell.gen_len - 2) / 2 + 1 : cell.prompt_len;
      EXPECT_EQ(k.keys, k.name == "causal_attention" ? keys : 0) << k.name;
    }
    EXPECT_EQ(got_calls, want_calls) << decode;  // tiny has no biases
  }
  if (size > 1) {  // a decode step's message: batch x d floats
    EXPECT_EQ(c.allreduce_bytes, int64_t(cell.batch * cfg.hidden_size * sizeof(real)));
    EXPECT_TRUE(c.allreduce_start_s > 0 && c.allreduce_start_s < 1);
    EXPECT_TRUE(c.allreduce_wait_s > 0 && c.allreduce_wait_s < kLinkUs * 1e-6) << c.allreduce_wait_s;
    // A layer's sync can only hide a module's skew; up to rounding, where one rank is the slowest
    // in every module and both are 0 but for the order of their sums (clean-clone CI, session 12:
    // 0 against 8.5e-22 s).
    EXPECT_GE(c.rank_skew_module_s, c.rank_skew_layer_s / 2 - 1e-15);
    EXPECT_GE(c.allreduce_wait_link_s, kLinkUs * 1e-6);  // through the model's Comm: the link's 50 ms held
    // Differences of replayed steps (tiny's take microseconds): the hand-off may come out below 0
    // where noise exceeds it; the stretch is clamped to [0, the whole per all-reduce].
    EXPECT_TRUE(std::isfinite(c.allreduce_start_overlapped_s) && std::abs(c.allreduce_start_overlapped_s) < 0.1)
        << c.allreduce_start_overlapped_s;
    EXPECT_TRUE(c.allreduce_stretch_overlapped_s >= 0 && c.allreduce_stretch_overlapped_s < 0.1)
        << c.allreduce_stretch_overlapped_s;
  } else {
    EXPECT_EQ(c.allreduce_bytes, 0);
    EXPECT_EQ(c.allreduce_start_s, 0);
    EXPECT_EQ(c.allreduce_wait_s, 0);
    EXPECT_EQ(c.rank_skew_module_s, 0);
    EXPECT_EQ(c.allreduce_wait_link_s, 0);
    EXPECT_EQ(c.allreduce_start_overlapped_s, 0);
    EXPECT_EQ(c.allreduce_stretch_overlapped_s, 0);
  }
  if (rank != 0) return;
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ladderbench-step-" + std::to_string(::getpid()) + ".h5")).string();
  {
    ResultsFile f(path, true);
    store_step_calibration(f, "roofline/step/c0000", cell, c, DType::F32);
    f.finalize();
  }
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t g = H5Gopen2(file, "roofline/step/c0000", H5P_DEFAULT);
  ASSERT_GE(g, 0);
  const auto expect_attribute = [&](const char* name, auto value, hid_t type) {
    decltype(value) got_value = -1;
    const hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    ASSERT_GE(a, 0) << name;
    EXPECT_GE(H5Aread(a, type, &got_value), 0);
    EXPECT_EQ(got_value, value) << name;
    H5Aclose(a);
  };
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"batch", cell.batch}, {"prompt_len", 4},
                                    {"gen_len", 6}, {"rounds", 3}, {"allreduce_bytes", c.allreduce_bytes}})
    expect_attribute(name, value, H5T_NATIVE_INT64);
  expect_attribute("allreduce_start_s", c.allreduce_start_s, H5T_NATIVE_DOUBLE);
  expect_attribute("allreduce_wait_s", c.allreduce_wait_s, H5T_NATIVE_DOUBLE);
  expect_attribute("allreduce_wait_link_s", c.allreduce_wait_link_s, H5T_NATIVE_DOUBLE);
  expect_attribute("rank_skew_module_s", c.rank_skew_module_s, H5T_NATIVE_DOUBLE);
  expect_attribute("rank_skew_layer_s", c.rank_skew_layer_s, H5T_NATIVE_DOUBLE);
  expect_attribute("allreduce_start_overlapped_s", c.allreduce_start_overlapped_s, H5T_NATIVE_DOUBLE);
  expect_attribute("allreduce_stretch_overlapped_s", c.allreduce_stretch_overlapped_s, H5T_NATIVE_DOUBLE);
  const auto read = [&](const char* name) {
    std::vector<double> v(t.size());
    const hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    EXPECT_GE(d, 0) << name;
    EXPECT_GE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0) << name;
    H5Dclose(d);
    return v;
  };
  const std::vector<double> median = read("time_s"), best = read("time_best_s");
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(median[i], t[i].median_s) << i;
    EXPECT_EQ(best[i], t[i].best_s) << i;
  }
  for (const KernelTiming& k : c.kernels) {  // one group each: seconds per call, and attention's keys
    const hid_t kg = H5Gopen2(g, ((k.decode ? "kernel/decode/" : "kernel/prefill/") + k.name).c_str(), H5P_DEFAULT);
    ASSERT_GE(kg, 0) << k.name;
    double time_s = -1;
    int64_t calls = -1, keys = -1;
    const auto attr = [&](const char* name, hid_t type, void* value) {
      const hid_t a = H5Aopen(kg, name, H5P_DEFAULT);
      EXPECT_GE(a, 0) << k.name << " " << name;
      EXPECT_GE(H5Aread(a, type, value), 0);
      H5Aclose(a);
    };
    attr("time_s", H5T_NATIVE_DOUBLE, &time_s);
    attr("calls", H5T_NATIVE_INT64, &calls);
    EXPECT_EQ(time_s, k.median_s) << k.name;
    EXPECT_EQ(calls, k.calls) << k.name;
    if (k.name == "causal_attention") {
      attr("keys", H5T_NATIVE_INT64, &keys);
      EXPECT_EQ(keys, k.keys);
    }
    H5Gclose(kg);
  }
  H5Gclose(g);
  H5Fclose(file);
  std::filesystem::remove(path);
}

TEST(Roofline, RejectsNonPositiveSizes) {
  RooflineOptions o;
  o.gemm_k = 0;
  EXPECT_THROW(measure_roofline(MPI_COMM_WORLD, o), std::invalid_argument);
}

}  // namespace
}  // namespace lb
