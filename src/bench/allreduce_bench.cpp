#include "bench/allreduce_bench.hpp"

#include "bench/cli_flags.hpp"

#include "bench/agreement.hpp"
#include "comm/comm_backend.hpp"
#include "core/errors.hpp"
#include "io/job_provenance.hpp"
#include "io/provenance.hpp"
#include "io/results_file.hpp"
#include "bench/roofline_report.hpp"
#include "bench/stats.hpp"
#include "bench/stop_signal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdio>
#include <memory>

namespace lb {

using Unmanaged = Kokkos::View<real*, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
using ConstUnmanaged = Kokkos::View<const real*, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

// ------------------------------------------------------------------------------------------------
// Pure helpers

int64_t parse_size(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return UserError("must be a byte count like 8, 64K, 1M or 2G (binary multiples), found \"" + text + "\"" +
                     (why.empty() ? "" : " (" + why + ")"));
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) throw bad("");
  int shift = 0;
  if (digits < text.size()) {
    if (digits + 1 != text.size()) throw bad("");
    switch (std::toupper(static_cast<unsigned char>(text[digits]))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      default: throw bad("");
    }
  }
  if (digits > 18) throw bad("too large");
  const int64_t v = std::stoll(text.substr(0, digits));
  if (v > (int64_t(1) << (62 - shift))) throw bad("too large");
  return v << shift;
}

std::vector<int64_t> size_sweep(int64_t minbytes, int64_t maxbytes, int64_t stepfactor) {
  const int64_t word = sizeof(real);
  if (minbytes < word)
    throw UserError("-b/--minbytes " + std::to_string(minbytes) + " is less than one float (" + std::to_string(word) +
                    " bytes)");
  if (maxbytes < minbytes)
    throw UserError("-e/--maxbytes " + std::to_string(maxbytes) + " is less than -b/--minbytes " + std::to_string(minbytes));
  if (stepfactor < 2) throw UserError("-f/--stepfactor must be an integer >= 2, found " + std::to_string(stepfactor));
  std::vector<int64_t> sizes;
  for (int64_t b = minbytes;; b *= stepfactor) {
    const int64_t rounded = b / word * word;
    if (sizes.empty() || sizes.back() != rounded) sizes.push_back(rounded);
    if (b > maxbytes / stepfactor) break;  // the next step would pass maxbytes (or overflow)
  }
  return sizes;
}

double overlap_percent(double overall_s, double compute_s, double pure_comm_s) {
  if (!(pure_comm_s > 0)) return 0;
  return std::clamp(100.0 * (1.0 - (overall_s - compute_s) / pure_comm_s), 0.0, 100.0);
}

int64_t max_exact_ranks() {
  int64_t p = 1;
  // The largest element is the sum at i%7 == 6.
  while (6 * ((p + 1) * (p + 2) / 2) + (p + 1) * p / 2 < (int64_t(1) << 24)) ++p;
  return p;
}

// ------------------------------------------------------------------------------------------------
// Kernels

void fill_allreduce_input(real* buf, int64_t n, int rank) {
  const Unmanaged v(buf, size_t(n));
  const int64_t r = rank;
  Kokkos::parallel_for("allreduce_fill", Range(0, n), KOKKOS_LAMBDA(const int64_t i) { v(i) = allreduce_input(r, i); });
}

int64_t count_allreduce_wrong(const real* buf, int64_t n, int ranks) {
  const ConstUnmanaged v(buf, size_t(n));
  const int64_t p = ranks;
  int64_t wrong = 0;
  Kokkos::parallel_reduce(
      "allreduce_check", Range(0, n),
      KOKKOS_LAMBDA(const int64_t i, int64_t& w) {
        if (v(i) != allreduce_expected(p, i)) ++w;
      },
      wrong);
  return wrong;
}

void synthetic_compute(const Vec& v, int64_t reps) {
  Kokkos::parallel_for("synthetic_compute", Range(0, int64_t(v.extent(0))), KOKKOS_LAMBDA(const int64_t i) {
    real x = v(i);
    for (int64_t k = 0; k < reps; ++k) x = x * real(0.999999) + real(1e-6);
    v(i) = x;
  });
}

// ------------------------------------------------------------------------------------------------
// Flags

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }


// A byte count flag: validated by parse_size, stored in bytes.
CLI::Option* add_size_option(CLI::App& app, const std::string& flags, int64_t& target, const std::string& help) {
  return app
      .add_option_function<std::string>(flags, [&target](const std::string& s) { target = parse_size(s); }, help)
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            try {
              parse_size(s);
            } catch (const UserError& e) {
              return e.what();
            }
            return {};
          },
          "SIZE"))
      ->default_str(std::to_string(target));
}

}  // namespace

void add_allreduce_flags(CLI::App& app, AllreduceOptions& o) {
  add_size_option(app, "-b,--minbytes", o.minbytes, "smallest message in bytes (K/M/G suffixes)");
  add_size_option(app, "-e,--maxbytes", o.maxbytes, "largest message in bytes (K/M/G suffixes)");
  app.add_option("-f,--stepfactor", o.stepfactor, "multiply the size by this from one message to the next")
      ->check(at_least(2, "an integer >= 2"))
      ->capture_default_str();
  app.add_option("-w,--warmup", o.warmup, "untimed all-reduces per size (and mode)")->check(kNonNegative)->capture_default_str();
  app.add_option("-n,--iters", o.iters, "timed all-reduces per size (and mode)")->check(kPositive)->capture_default_str();
  app.add_option("--mode", o.mode,
                 "blocking: start + wait at once (standard TP); async: start, synthetic compute, wait (ladder TP), "
                 "with the OSU overlap; both")
      ->check(CLI::IsMember({"blocking", "async", "both"}))
      ->capture_default_str();
  app.add_option("--compute-factor", o.compute_factor,
                 "async: the synthetic compute lasts this multiple of the size's pure all-reduce time")
      ->check(CLI::Range(0.1, 100.0))
      ->capture_default_str();
  app.add_option("--out", o.out, "results file (HDF5); written as <out>.partial until complete (default: log only)");
  app.add_flag("--overwrite", o.overwrite, "replace an existing --out file");
  add_comm_flags(app, o.link, o.timeout_s);
  app.add_flag("--roofline", o.roofline, "also measure STREAM copy/triad and GEMM ceilings first (docs/measurement.md)");
}

// ------------------------------------------------------------------------------------------------
// Provenance


// ------------------------------------------------------------------------------------------------
// The benchmark

namespace {

// Per size of one mode; samples are [sizes, iters], each the slowest rank's time.
struct ModeResult {
  explicit ModeResult(std::string m) : mode(std::move(m)) {}
  std::string mode;
  std::vector<int64_t> bytes, count, wrong;
  std::vector<double> p50, p95, min, algbw, busbw;
  std::vector<double> samples;
  // async only
  std::vector<double> compute_samples, overall_samples, compute_p50, overall_p50, overlap;
  std::vector<int64_t> compute_reps;

  void add_times(int64_t b, int64_t wrong_elements, const std::vector<double>& t, int ranks) {
    bytes.push_back(b);
    count.push_back(b / int64_t(sizeof(real)));
    wrong.push_back(wrong_elements);
    const Summary s = summarize(t);
    p50.push_back(s.median);
    p95.push_back(s.p95);
    min.push_back(s.min);
    algbw.push_back(lb::algbw(b, s.median));
    busbw.push_back(lb::busbw(b, s.median, ranks));
    samples.insert(samples.end(), t.begin(), t.end());
  }

  GroupRecord record(int64_t iters, int64_t warmup, int ranks, const AllreduceOptions& o) const {
    const hsize_t S = bytes.size(), I = hsize_t(iters);
    GroupRecord g;
    g.string_attrs = {{"mode", mode}, {"dtype", "float32"}, {"redop", "sum"}, {"placement", "in-place"},
                      {"time_definition", "per iteration: the slowest rank's time after a barrier; p50/p95/min over iters"}};
    g.int_attrs = {{"iters", iters}, {"warmup", warmup}, {"ranks", ranks}};
    g.i64 = {{"bytes", {S}, bytes}, {"count", {S}, count}, {"wrong", {S}, wrong}};
    g.f64 = {{"time_p50_s", {S}, p50}, {"time_p95_s", {S}, p95}, {"time_min_s", {S}, min},
             {"algbw_Bps", {S}, algbw}, {"busbw_Bps", {S}, busbw}, {"time_s", {S, I}, samples}};
    if (mode == "async") {
      g.double_attrs = {{"compute_factor", o.compute_factor}};
      g.string_attrs.push_back({"async_definition",
                                "time_*: start then wait at once through start_allreduce/wait (pure); compute_*: the "
                                "synthetic compute alone; overall_*: start, compute, wait; overlap_pct = "
                                "max(0, 100 (1 - (overall_p50 - compute_p50) / time_p50))"});
      g.f64.push_back({"compute_s", {S, I}, compute_samples});
      g.f64.push_back({"overall_s", {S, I}, overall_samples});
      g.f64.push_back({"compute_p50_s", {S}, compute_p50});
      g.f64.push_back({"overall_p50_s", {S}, overall_p50});
      g.f64.push_back({"overlap_pct", {S}, overlap});
      g.i64.push_back({"compute_reps", {S}, compute_reps});
    }
    return g;
  }
};

class Sweep {
 public:
  Sweep(const AllreduceOptions& o, MPI_Comm world, Comm& comm, int64_t max_count)
      : o_(o), world_(world), comm_(comm), buf_(Kokkos::view_alloc(Kokkos::WithoutInitializing, "allreduce_buf"), max_count),
        scratch_("synthetic_compute", 1024) {
    MPI_Comm_rank(world, &rank_);
    MPI_Comm_size(world, &size_);
    Kokkos::deep_copy(scratch_, real(1));
  }

  // One all-reduce of n elements on fresh inputs: fill, barrier, time `op`, check.
  // Returns this rank's time; adds the wrong elements to `wrong`.
  template <class Op>
  double iteration(int64_t n, int64_t& wrong, Op&& op) {
    fill_allreduce_input(buf_.data(), n, rank_);
    Kokkos::fence();
    MPI_Barrier(world_);
    const auto t0 = Clock::now();
    op();
    // A backend may complete the wait on the device only (NCCL: a stream-side wait); the host
    // sees the result after a fence, as it would any kernel's output.
    Kokkos::fence();
    const double t = seconds_since(t0);
    wrong += count_allreduce_wrong(buf_.data(), n, size_);
    return t;
  }

  // The slowest rank's time of each iteration, and the wrong elements summed over ranks.
  void reduce(std::vector<double>& t, int64_t& wrong) {
    MPI_Allreduce(MPI_IN_PLACE, t.data(), int(t.size()), MPI_DOUBLE, MPI_MAX, world_);
    MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT64_T, MPI_SUM, world_);
  }

  void blocking(int64_t bytes, ModeResult& out) {
    const int64_t n = bytes / int64_t(sizeof(real));
    int64_t wrong = 0;
    const auto op = [&] { comm_.allreduce(buf_.data(), size_t(n)); };
    for (int64_t w = 0; w < o_.warmup; ++w) iteration(n, wrong, op);
    std::vector<double> t(size_t(o_.iters));
    for (auto& s : t) s = iteration(n, wrong, op);
    reduce(t, wrong);
    out.add_times(bytes, wrong, t, size_);
  }

  void async(int64_t bytes, ModeResult& out) {
    const int64_t n = bytes / int64_t(sizeof(real));
    int64_t wrong = 0;
    const auto pure = [&] {
      const Comm::Ticket ticket = comm_.start_allreduce(buf_.data(), size_t(n));
      comm_.wait(ticket);
    };
    for (int64_t w = 0; w < o_.warmup; ++w) iteration(n, wrong, pure);
    std::vector<double> t(size_t(o_.iters));
    for (auto& s : t) s = iteration(n, wrong, pure);
    MPI_Allreduce(MPI_IN_PLACE, t.data(), int(t.size()), MPI_DOUBLE, MPI_MAX, world_);

    // The same amount of compute on every rank, lasting about compute_factor x the pure time on the
    // slowest rank (the fewest steps any rank calibrated to).
    int64_t reps = calibrate(o_.compute_factor * quantile(t, 0.5));
    MPI_Allreduce(MPI_IN_PLACE, &reps, 1, MPI_INT64_T, MPI_MIN, world_);
    // Fences only the compute's execution space instance (a device backend's all-reduce runs on
    // its own stream and is waited for by wait() and the iteration's global fence).
    const auto compute = [&] {
      synthetic_compute(scratch_, reps);
      ExecSpace().fence();
    };
    std::vector<double> compute_t(size_t(o_.iters)), overall_t(size_t(o_.iters));
    for (auto& s : compute_t) {
      Kokkos::fence();
      MPI_Barrier(world_);
      const auto t0 = Clock::now();
      compute();
      s = seconds_since(t0);
    }
    const auto overlapped = [&] {
      const Comm::Ticket ticket = comm_.start_allreduce(buf_.data(), size_t(n));
      compute();
      comm_.wait(ticket);
    };
    for (int64_t w = 0; w < std::min<int64_t>(o_.warmup, 2); ++w) iteration(n, wrong, overlapped);
    for (auto& s : overall_t) s = iteration(n, wrong, overlapped);

    MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT64_T, MPI_SUM, world_);
    MPI_Allreduce(MPI_IN_PLACE, compute_t.data(), int(compute_t.size()), MPI_DOUBLE, MPI_MAX, world_);
    MPI_Allreduce(MPI_IN_PLACE, overall_t.data(), int(overall_t.size()), MPI_DOUBLE, MPI_MAX, world_);
    out.add_times(bytes, wrong, t, size_);
    out.compute_samples.insert(out.compute_samples.end(), compute_t.begin(), compute_t.end());
    out.overall_samples.insert(out.overall_samples.end(), overall_t.begin(), overall_t.end());
    out.compute_p50.push_back(quantile(compute_t, 0.5));
    out.overall_p50.push_back(quantile(overall_t, 0.5));
    out.overlap.push_back(overlap_percent(out.overall_p50.back(), out.compute_p50.back(), out.p50.back()));
    out.compute_reps.push_back(reps);
  }

 private:
  // Steps of the synthetic compute that take about `target_s` on this rank. Each round times 3
  // runs and keeps the fastest (an interrupted run only ever takes longer), then rescales.
  int64_t calibrate(double target_s) {
    int64_t reps = 16;
    for (int round = 0; round < 8; ++round) {
      double best = 1e30;
      for (int k = 0; k < 3; ++k) {
        const auto t0 = Clock::now();
        synthetic_compute(scratch_, reps);
        ExecSpace().fence();
        best = std::min(best, seconds_since(t0));
      }
      const double ratio = target_s / std::max(best, 1e-9);
      if (ratio > 0.9 && ratio < 1.1) break;
      reps = std::max<int64_t>(1, int64_t(double(reps) * std::min(ratio, 1000.0)));
    }
    return reps;
  }

  const AllreduceOptions& o_;
  MPI_Comm world_;
  Comm& comm_;
  Vec buf_, scratch_;
  int rank_ = 0, size_ = 1;
};

void print_header(const AllreduceOptions& o, const Comm& comm, const std::string& cmdline,
                  const std::vector<int64_t>& sizes, MPI_Comm world) {
  const int ranks = comm.size();
  const std::string priority = comm.progress_priority();  // every rank: it may wait for its thread
  // "#  Rank r Pid p on host" lines, as nccl-tests lists its devices.
  int rank = 0;
  MPI_Comm_rank(world, &rank);
  char line[320];
  std::snprintf(line, sizeof line, "#  Rank %3d Pid %7d on %s", rank, int(::getpid()), host_name().c_str());
  std::vector<char> all(size_t(ranks) * sizeof line, '\0');
  MPI_Gather(line, sizeof line, MPI_CHAR, all.data(), sizeof line, MPI_CHAR, 0, world);
  if (rank != 0) return;
  std::printf("# ladder-allreduce  %s\n", cmdline.c_str());
  std::printf("# ranks %d (MPI), backend %s (progress thread priority: %s), device cpu (Kokkos %s), type float, "
              "redop sum, in place\n",
              ranks, comm.name().c_str(), priority.c_str(), ExecSpace::name());
  std::printf("# minbytes %lld maxbytes %lld step: %lld(factor) sizes %zu warmup: %lld iters: %lld mode: %s compute_factor: %g\n",
              (long long)o.minbytes, (long long)o.maxbytes, (long long)o.stepfactor, sizes.size(), (long long)o.warmup,
              (long long)o.iters, o.mode.c_str(), o.compute_factor);
  if (o.link.enabled())
    std::printf("# emulated link: latency %.1f us, bandwidth %.3g Gbit/s per all-reduce (EMULATED, not measured)\n",
                o.link.latency_us, o.link.bandwidth_gbps);
  else
    std::printf("# link: the machine's own (no emulation)\n");
  std::printf("# timeout_s %g, out %s\n", o.timeout_s, o.out.empty() ? "(none)" : o.out.c_str());
  std::printf("# check: rank r sends (r+1)*(i%%7)+r at element i; every all-reduce's result is compared exactly "
              "(#wrong = wrong elements over all ranks and iterations)\n");
  std::printf("# time: median over iters of the slowest rank's time after a barrier; algbw = size/time, "
              "busbw = algbw*2(n-1)/n\n");
  if (o.mode != "blocking")
    std::printf("# async: time = start_allreduce + wait at once; compute = synthetic compute alone (~%gx time); "
                "overall = start, compute, wait; overlap = max(0, 100(1-(overall-compute)/time))\n",
                o.compute_factor);
  std::printf("#\n# Using devices\n");
  for (int r = 0; r < ranks; ++r) std::printf("%s\n", &all[size_t(r) * sizeof line]);
  std::printf("#\n");
  std::fflush(stdout);
}

void print_columns(const AllreduceOptions& o) {
  const bool blk = o.mode != "async", asy = o.mode != "blocking";
  std::printf("#%32s", "");
  if (blk) std::printf("  %-38s", "blocking");
  if (asy) std::printf("  %s", "async (start, compute, wait)");
  std::printf("\n# %11s %12s %6s %5s", "size", "count", "type", "redop");
  for (int m = 0; m < int(blk) + int(asy); ++m) std::printf("  %9s %7s %7s %6s", "time", "algbw", "busbw", "#wrong");
  if (asy) std::printf(" %9s %9s %7s", "compute", "overall", "overlap");
  std::printf("\n# %11s %12s %6s %5s", "(B)", "(elements)", "", "");
  for (int m = 0; m < int(blk) + int(asy); ++m) std::printf("  %9s %7s %7s %6s", "(us)", "(GB/s)", "(GB/s)", "");
  if (asy) std::printf(" %9s %9s %7s", "(us)", "(us)", "(%)");
  std::printf("\n");
  std::fflush(stdout);
}

void print_row(const std::vector<const ModeResult*>& modes, bool async_last) {
  const ModeResult& first = *modes.front();
  const size_t k = first.bytes.size() - 1;
  std::printf("  %11lld %12lld %6s %5s", (long long)first.bytes[k], (long long)first.count[k], "float", "sum");
  for (const ModeResult* m : modes)
    std::printf("  %9.2f %7.3f %7.3f %6lld", 1e6 * m->p50[k], m->algbw[k] / 1e9, m->busbw[k] / 1e9, (long long)m->wrong[k]);
  if (async_last) {
    const ModeResult& a = *modes.back();
    std::printf(" %9.2f %9.2f %7.1f", 1e6 * a.compute_p50[k], 1e6 * a.overall_p50[k], a.overlap[k]);
  }
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int run_allreduce_bench(const AllreduceOptions& o, MPI_Comm world, int argc, char** argv) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);

  std::vector<int64_t> sizes;
  if (!all_ranks_ok(world, [&] {
        sizes = size_sweep(o.minbytes, o.maxbytes, o.stepfactor);
        if (sizes.back() / int64_t(sizeof(real)) > INT_MAX)
          throw UserError("-e/--maxbytes " + std::to_string(o.maxbytes) + " is more than an MPI count of floats (" +
                          std::to_string(int64_t(INT_MAX) * int64_t(sizeof(real))) + " bytes)");
        if (size > max_exact_ranks())
          throw UserError("the exact check supports at most " + std::to_string(max_exact_ranks()) + " ranks, found " +
                          std::to_string(size));
        if (rank == 0 && !o.out.empty()) ResultsFile::check_output_path(o.out, o.overwrite);
      }))
    return 1;

  const std::string cmdline = quoted_command_line(argc, argv);
  auto comm = make_backend_comm(world, o.link, o.timeout_s);
  print_header(o, *comm, cmdline, sizes, world);

  std::unique_ptr<ResultsFile> file;
  if (rank == 0 && !o.out.empty()) file = std::make_unique<ResultsFile>(o.out, o.overwrite);
  write_job_provenance(file.get(), world, cmdline, *comm, o.link);
  if (file) {
    file->set_attr("kind", std::string("allreduce"));
    file->set_attr("minbytes", o.minbytes);
    file->set_attr("maxbytes", o.maxbytes);
    file->set_attr("stepfactor", o.stepfactor);
    file->set_attr("warmup", o.warmup);
    file->set_attr("iters", o.iters);
    file->set_attr("mode", o.mode);
    file->set_attr("compute_factor", o.compute_factor);
    file->set_attr("timeout_s", o.timeout_s);
  }

  if (o.roofline) {
    const Roofline r = measure_roofline(world);
    if (rank == 0) {
      print_roofline(stdout, r);
      std::printf("#\n");
    }
    if (file) store_roofline(*file, r);
  }
  if (rank == 0) print_columns(o);

  Sweep sweep(o, world, *comm, sizes.back() / int64_t(sizeof(real)));
  ModeResult blocking("blocking"), async("async");
  std::vector<ModeResult*> modes;
  if (o.mode != "async") modes.push_back(&blocking);
  if (o.mode != "blocking") modes.push_back(&async);
  int stop = 0;
  for (const int64_t bytes : sizes) {
    // Both modes of one size back to back, so drift of a shared machine hits them alike.
    if (o.mode != "async") sweep.blocking(bytes, blocking);
    if (o.mode != "blocking") sweep.async(bytes, async);
    if (rank == 0) print_row({modes.begin(), modes.end()}, o.mode != "blocking");
    // Every finished size is in the file; a SIGTERM/SIGINT on any rank stops all after this size.
    if (file)
      for (const ModeResult* m : modes) file->replace_group("allreduce/" + m->mode, m->record(o.iters, o.warmup, size, o));
    stop = stop_signal();
    MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, world);
    if (stop) break;
  }

  int64_t wrong = 0;
  for (const ModeResult* m : modes)
    for (int64_t w : m->wrong) wrong += w;
  if (rank == 0) {
    std::printf("# Out of bounds values : %lld %s\n", (long long)wrong, wrong == 0 ? "OK" : "FAILED");
    for (const ModeResult* m : modes) {
      double sum = 0;
      for (double b : m->busbw) sum += b;
      std::printf("# Avg bus bandwidth    : %.4f GB/s (%s)\n", sum / double(m->busbw.size()) / 1e9, m->mode.c_str());
    }
  }
  if (file) file->set_attr("wrong_total", wrong);
  if (stop) {
    if (file) {
      file->set_attr("interrupted", signal_name(stop));
      file->close_incomplete();
    }
    if (rank == 0)
      std::fprintf(stderr, "%s: stopped by %s after %zu of %zu sizes%s%s\n", program_name(), signal_name(stop).c_str(),
                   modes.front()->bytes.size(), sizes.size(), file ? "; they are in " : "", file ? file->partial_path().c_str() : "");
    return 128 + stop;
  }
  if (file) {
    file->finalize();
    std::printf("# wrote %s\n", o.out.c_str());
  }
  if (wrong != 0 && rank == 0)
    std::fprintf(stderr, "%s: error: %lld wrong elements in all-reduce results (see the #wrong column)\n",
                 program_name(), (long long)wrong);
  return wrong == 0 ? 0 : 1;
}

}  // namespace lb
