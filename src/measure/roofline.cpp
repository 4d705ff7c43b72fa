#include "measure/roofline.hpp"

#include "measure/concurrent_timing.hpp"
#include "kernels/gemm.hpp"
#ifndef LADDERBENCH_CUDA
#include "kernels/stream_sum.hpp"
#endif

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lb {

int64_t host_stream_bytes() {
  int64_t llc = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
  llc = std::max<int64_t>(llc, sysconf(_SC_LEVEL3_CACHE_SIZE));
#endif
#ifdef _SC_LEVEL2_CACHE_SIZE
  llc = std::max<int64_t>(llc, sysconf(_SC_LEVEL2_CACHE_SIZE));
#endif
  return std::max<int64_t>(int64_t(64) << 20, 4 * llc);
}

double stream_read(const Vec& a) {
#ifndef LADDERBENCH_CUDA
  return stream_sum(a.data(), int64_t(a.extent(0)));  // full-width loads (kernels/stream_sum.cpp says why)
#else
  // One partial sum per thread, the threads being the lanes; double: a GiB of small values
  // overflows fp32's exact partial sums.
  double total = 0;
  Kokkos::parallel_reduce(
      "stream_read", Range(0, int64_t(a.extent(0))), KOKKOS_LAMBDA(const int64_t i, double& acc) { acc += a(i); },
      total);
  return total;
#endif
}

void stream_copy(const Vec& c, const Vec& a) {
  Kokkos::parallel_for("stream_copy", Range(0, int64_t(c.extent(0))), KOKKOS_LAMBDA(const int64_t i) { c(i) = a(i); });
}

void stream_triad(const Vec& a, const Vec& b, const Vec& c, real s) {
  Kokkos::parallel_for("stream_triad", Range(0, int64_t(a.extent(0))),
                       KOKKOS_LAMBDA(const int64_t i) { a(i) = b(i) + s * c(i); });
}

// Helpers with device lambdas live in a named namespace (CUDA extended lambdas need an enclosing
// function whose address can be taken).
namespace roofline_detail {

// Small integers and halves: every triad result is exact in fp32, so the check is equality.
void fill_stream(const Vec& a, const Vec& b, const Vec& c) {
  Kokkos::parallel_for("stream_fill", Range(0, int64_t(a.extent(0))), KOKKOS_LAMBDA(const int64_t i) {
    a(i) = 0;
    b(i) = real(i % 13);
    c(i) = real(i % 5);
  });
}

// Elements of `a` that differ from b + s*c (want_triad) or from b (a copy of b).
int64_t count_wrong(const Vec& a, const Vec& b, const Vec& c, real s, bool want_triad) {
  int64_t wrong = 0;
  Kokkos::parallel_reduce(
      "stream_check", Range(0, int64_t(a.extent(0))),
      KOKKOS_LAMBDA(const int64_t i, int64_t& n) {
        const real want = want_triad ? real(i % 13) + s * real(i % 5) : real(i % 13);
        if (a(i) != want || b(i) != real(i % 13) || c(i) != real(i % 5)) ++n;
      },
      wrong);
  return wrong;
}

// Seeded values in [-1, 1] (a multiplicative hash of the flat index).
void fill_matrix(const Mat& m, uint64_t seed) {
  const int64_t cols = m.extent(1);
  Kokkos::parallel_for("gemm_fill", Range(0, int64_t(m.extent(0)) * cols), KOKKOS_LAMBDA(const int64_t i) {
    const uint64_t h = (uint64_t(i) + seed) * 0x9E3779B97F4A7C15ull;
    m(i / cols, i % cols) = real(int64_t((h >> 40) % 2001) - 1000) / real(1000);
  });
}

// (x[i,:] . w[j,:], sum |x[i,k] w[j,k]|) in float64.
void dot_row(const Mat& x, const Mat& w, int64_t i, int64_t j, double& dot, double& mag) {
  dot = 0;
  mag = 0;
  Kokkos::parallel_reduce(
      "gemm_check_dot", Range(0, int64_t(x.extent(1))),
      KOKKOS_LAMBDA(const int64_t k, double& s) { s += double(x(i, k)) * double(w(j, k)); }, dot);
  Kokkos::parallel_reduce(
      "gemm_check_mag", Range(0, int64_t(x.extent(1))),
      KOKKOS_LAMBDA(const int64_t k, double& s) {
        const double p = double(x(i, k)) * double(w(j, k));
        s += p < 0 ? -p : p;
      },
      mag);
}

}  // namespace roofline_detail

namespace {

// Unit roundoff of a weight type (round to nearest): 2^-p for p significant bits.
double unit_roundoff(DType t) {
  switch (t) {
    case DType::BF16:
      return std::ldexp(1.0, -8);
    case DType::F16:
      return std::ldexp(1.0, -11);
    default:
      return 0;  // fp32 GEMMs are checked at the fp32 accumulation bound alone
  }
}

// The same verdict on every rank: a wrong result anywhere fails the whole job's measurement.
void require_everywhere(MPI_Comm comm, bool ok, const std::string& what) {
  int bad = ok ? 0 : 1;
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm);
  if (bad) throw std::runtime_error("roofline: " + what);
}

// Every model GEMM shape timed through gemm_xwt, grouped by weight matrix (n, k). The weights have
// `copies` distinct copies holding model_gemm_stream_bytes together, and successive calls (across
// trials too) take them in turn, so every call reads the copy left alone the longest: from memory,
// as a forward reads each layer's weights, not from a cache. A decode GEMM's trial calls every copy
// once (a decode step's weight bytes); a prefill GEMM's (long, compute-bound) calls the next one.
// The trials come in rounds over all matrices, so that a disturbance of a few seconds (another
// process on a shared machine) spoils a few trials of many shapes, which the median discards,
// rather than every trial of one shape.
std::vector<GemmTiming> measure_model_gemms(MPI_Comm comm, const RooflineOptions& o) {
  std::map<std::pair<int64_t, int64_t>, std::vector<GemmShape>> by_matrix;  // (n, k) -> shapes
  for (const GemmShape& g : o.model_gemms) {
    if (g.m < 1 || g.n < 1 || g.k < 1) throw std::invalid_argument("measure_roofline: GEMM shapes must be positive");
    by_matrix[{g.n, g.k}].push_back(g);
  }
  std::vector<GemmTiming> timed;
  std::vector<std::vector<double>> trials;  // per entry of `timed`: seconds per call of every trial
  for (int round = 0; round < o.model_gemm_rounds; ++round) {
    size_t entry = 0;
    for (const auto& [nk, shapes] : by_matrix) {
      const auto [n, k] = nk;
      const double matrix_bytes = double(n) * double(k) * double(dtype_bytes(o.gemm_weights));
      const int64_t copies =
          std::max<int64_t>(1, int64_t(std::ceil(double(o.model_gemm_stream_bytes) / matrix_bytes)));
      HostMat host(Kokkos::view_alloc(Kokkos::WithoutInitializing, "model_gemm_w_host"), n, k);
      for (int64_t i = 0; i < n * k; ++i)  // values in [-0.5, 0.5)
        host.data()[i] = real(int64_t((uint64_t(i) * 0x9E3779B97F4A7C15ull) >> 54) - 512) / real(1024);
      std::vector<Weight> w;
      for (int64_t c = 0; c < copies; ++c) w.push_back(make_weight("model_gemm_w", host, o.gemm_weights));
      size_t next = 0;  // the copy the next call reads
      for (const GemmShape& g : shapes) {
        Mat x(Kokkos::view_alloc(Kokkos::WithoutInitializing, "model_gemm_x"), g.m, k);
        Mat y(Kokkos::view_alloc(Kokkos::WithoutInitializing, "model_gemm_y"), g.m, n);
        roofline_detail::fill_matrix(x, uint64_t(g.m));
        const int64_t calls = g.decode ? copies : 1;
        const auto pass = [&] {
          for (int64_t c = 0; c < calls; ++c) {
            gemm_xwt(x, w[next], y);
            next = (next + 1) % w.size();
          }
        };
        gemm_xwt(x, w[next], y);  // warm-up: BLAS buffers, page faults of y
        next = (next + 1) % w.size();
        std::vector<double> t = concurrent_times(comm, o.model_gemm_trials, pass);
        for (double& v : t) v /= double(calls);
        if (round == 0) {
          GemmTiming r;
          r.shape = g;
          r.calls = calls;
          r.copies = copies;
          timed.push_back(r);
          trials.emplace_back();
        }
        trials[entry].insert(trials[entry].end(), t.begin(), t.end());
        ++entry;
      }
    }
  }
  for (size_t i = 0; i < timed.size(); ++i) {
    timed[i].best_s = *std::min_element(trials[i].begin(), trials[i].end());
    timed[i].median_s = median_of(trials[i]);
  }
  std::vector<GemmTiming> out;  // in the order asked
  for (const GemmShape& g : o.model_gemms)
    out.push_back(*std::find_if(timed.begin(), timed.end(), [&](const GemmTiming& t) { return t.shape == g; }));
  return out;
}

}  // namespace

std::vector<GemmShape> model_gemm_shapes(const ModelConfig& cfg, const Shard& shard, const std::vector<int64_t>& batches,
                                         const std::vector<int64_t>& prompt_lens) {
  const int64_t d = cfg.hidden_size, dh = cfg.head_dim();
  const int64_t qkv = (shard.heads + 2 * shard.kv_heads) * dh;
  // Transformer's weights on one rank: fused QKV, o_proj, gate/up, down_proj, the parallel block's
  // fused [q|k|v|gate|up], and the replicated LM head.
  const std::vector<std::pair<int64_t, int64_t>> layer = {
      {qkv, d}, {d, shard.heads * dh}, {2 * shard.ff, d}, {d, shard.ff}, {qkv + 2 * shard.ff, d}};
  std::vector<GemmShape> out;
  const auto add = [&](GemmShape g) {
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  };
  for (int64_t b : batches) {
    for (const auto& [n, k] : layer) add({b, n, k, true});
    add({b, cfg.vocab_size, d, true});
  }
  for (int64_t b : batches)
    for (int64_t p : prompt_lens)
      for (const auto& [n, k] : layer) add({std::min(b * p, kPrefillGemmRowsMax), n, k, false});
  return out;
}

Roofline measure_roofline(MPI_Comm comm, const RooflineOptions& o) {
  if (o.stream_bytes < int64_t(sizeof(real)) || o.stream_trials < 1 || o.gemm_trials < 1 || o.gemm_m < 1 ||
      o.gemm_n < 1 || o.gemm_k < 1)
    throw std::invalid_argument("measure_roofline: sizes and trials must be positive");
  if (!o.model_gemms.empty() && (o.model_gemm_rounds < 1 || o.model_gemm_trials < 1 || o.model_gemm_stream_bytes < 1))
    throw std::invalid_argument("measure_roofline: model GEMM rounds, trials and stream bytes must be positive");
  Roofline r;
  r.options = o;
  r.timer = TrialTimer::name();
  MPI_Comm_size(comm, &r.ranks);

  {  // STREAM read, copy and triad
    const int64_t n = o.stream_bytes / int64_t(sizeof(real));
    Vec a(Kokkos::view_alloc(Kokkos::WithoutInitializing, "stream_a"), n);
    Vec b(Kokkos::view_alloc(Kokkos::WithoutInitializing, "stream_b"), n);
    Vec c(Kokkos::view_alloc(Kokkos::WithoutInitializing, "stream_c"), n);
    roofline_detail::fill_stream(a, b, c);  // also first-touches every page before timing
    const real s = real(0.5);
    double read_sum = 0;
    r.stream_read_s = best_concurrent_time(comm, o.stream_trials, [&] { read_sum = stream_read(b); });
    // b[i] = i % 13: the sum is known, and exact in the double partial sums.
    const double want_sum = 78.0 * double(n / 13) + double((n % 13) * (n % 13 - 1) / 2);
    require_everywhere(comm, read_sum == want_sum, "STREAM read summed wrongly");
    r.stream_copy_s = best_concurrent_time(comm, o.stream_trials, [&] { stream_copy(a, b); });
    require_everywhere(comm, roofline_detail::count_wrong(a, b, c, s, false) == 0, "STREAM copy produced wrong values");
    r.stream_triad_s = best_concurrent_time(comm, o.stream_trials, [&] { stream_triad(a, b, c, s); });
    require_everywhere(comm, roofline_detail::count_wrong(a, b, c, s, true) == 0, "STREAM triad produced wrong values");
    const double bytes = double(n) * sizeof(real);
    r.stream_read_Bps = bytes / r.stream_read_s;
    r.stream_copy_Bps = 2 * bytes / r.stream_copy_s;
    r.stream_triad_Bps = 3 * bytes / r.stream_triad_s;
  }

  {  // GEMM through the model's own GEMM entry point, weights stored as the run's
    Mat x(Kokkos::view_alloc(Kokkos::WithoutInitializing, "gemm_x"), o.gemm_m, o.gemm_k);
    Mat w(Kokkos::view_alloc(Kokkos::WithoutInitializing, "gemm_w"), o.gemm_n, o.gemm_k);
    Mat y(Kokkos::view_alloc(Kokkos::WithoutInitializing, "gemm_y"), o.gemm_m, o.gemm_n);
    roofline_detail::fill_matrix(x, 1);
    roofline_detail::fill_matrix(w, 2);
    const Weight stored = make_weight("gemm_w_stored", Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), w),
                                      o.gemm_weights);
    gemm_xwt(x, stored, y);  // warm-up: BLAS buffers, page faults of y
    r.gemm_s = best_concurrent_time(comm, o.gemm_trials, [&] { gemm_xwt(x, stored, y); });
    r.gemm_flops = 2.0 * double(o.gemm_m) * double(o.gemm_n) * double(o.gemm_k) / r.gemm_s;
    bool ok = true;
    for (const auto& [i, j] : {std::pair<int64_t, int64_t>{0, 0}, {o.gemm_m - 1, o.gemm_n - 1}, {o.gemm_m / 2, o.gemm_n / 3}}) {
      double dot = 0, mag = 0;
      roofline_detail::dot_row(x, w, i, j, dot, mag);
      real got = 0;
      Kokkos::deep_copy(got, Kokkos::subview(y, i, j));
      // 16-bit weights: x and w are each rounded to the type before the product (relative error
      // <= 2u per product, u the type's unit roundoff); fp32 accumulation adds its own.
      ok = ok && std::abs(double(got) - dot) <= (2 * unit_roundoff(o.gemm_weights) + 1e-5) * mag + 1e-6;
    }
    require_everywhere(comm, ok, "GEMM result differs from a float64 dot product");
  }
  r.model_gemms = measure_model_gemms(comm, o);
  return r;
}

}  // namespace lb
