#include "allreduce/allreduce_report.hpp"

#include "io/provenance.hpp"

#include <unistd.h>

#include <cstdio>

namespace lb {

void print_allreduce_header(const AllreduceOptions& o, const Comm& comm, const std::string& cmdline,
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
  std::printf("# ranks %d (MPI), backend %s (%s; progress thread priority: %s), device cpu (Kokkos %s), type float, "
              "redop sum, in place\n",
              ranks, comm.name().c_str(), comm.transports().c_str(), priority.c_str(), ExecSpace::name());
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
  if (o.measures("mpi"))
    std::printf("# mpi: MPI_Allreduce of the same buffer, blocking, on MPI_COMM_WORLD: the library's own all-reduce, "
                "timed alike (the floor blocking is compared with)\n");
  if (o.measures("async"))
    std::printf("# async: time = start_allreduce + wait at once; compute = synthetic compute alone (~%gx time); "
                "overall = start, compute, wait; overlap = max(0, 100(1-(overall-compute)/time))\n",
                o.compute_factor);
  std::printf("#\n# Using devices\n");
  for (int r = 0; r < ranks; ++r) std::printf("%s\n", &all[size_t(r) * sizeof line]);
  std::printf("#\n");
  std::fflush(stdout);
}

void print_allreduce_columns(const AllreduceOptions& o) {
  const bool asy = o.measures("async");
  const int modes = int(o.measures("mpi")) + int(o.measures("blocking")) + int(asy);
  std::printf("#%32s", "");
  if (o.measures("mpi")) std::printf("  %-38s", "mpi (MPI_Allreduce)");
  if (o.measures("blocking")) std::printf("  %-38s", "blocking");
  if (asy) std::printf("  %s", "async (start, compute, wait)");
  std::printf("\n# %11s %12s %6s %5s", "size", "count", "type", "redop");
  for (int m = 0; m < modes; ++m) std::printf("  %9s %7s %7s %6s", "time", "algbw", "busbw", "#wrong");
  if (asy) std::printf(" %9s %9s %7s", "compute", "overall", "overlap");
  std::printf("\n# %11s %12s %6s %5s", "(B)", "(elements)", "", "");
  for (int m = 0; m < modes; ++m) std::printf("  %9s %7s %7s %6s", "(us)", "(GB/s)", "(GB/s)", "");
  if (asy) std::printf(" %9s %9s %7s", "(us)", "(us)", "(%)");
  std::printf("\n");
  std::fflush(stdout);
}

void print_allreduce_row(const std::vector<const ModeResult*>& modes, bool async_last) {
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

void print_allreduce_summary(const std::vector<const ModeResult*>& modes, int64_t wrong) {
  std::printf("# Out of bounds values : %lld %s\n", (long long)wrong, wrong == 0 ? "OK" : "FAILED");
  for (const ModeResult* m : modes) {
    double sum = 0;
    for (double b : m->busbw) sum += b;
    std::printf("# Avg bus bandwidth    : %.4f GB/s (%s)\n", sum / double(m->busbw.size()) / 1e9, m->mode.c_str());
  }
}

GroupRecord mode_record(const ModeResult& m, int ranks, const AllreduceOptions& o) {
  const int64_t iters = o.iters, warmup = o.warmup;
  const hsize_t S = m.bytes.size(), I = hsize_t(iters);
  GroupRecord g;
  g.string_attrs = {{"mode", m.mode}, {"dtype", "float32"}, {"redop", "sum"}, {"placement", "in-place"},
                    {"time_definition", "per iteration: the slowest rank's time after a barrier; p50/p95/min over iters"}};
  g.int_attrs = {{"iters", iters}, {"warmup", warmup}, {"ranks", ranks}};
  g.i64 = {{"bytes", {S}, m.bytes}, {"count", {S}, m.count}, {"wrong", {S}, m.wrong}};
  g.f64 = {{"time_p50_s", {S}, m.p50}, {"time_p95_s", {S}, m.p95}, {"time_min_s", {S}, m.min},
           {"algbw_Bps", {S}, m.algbw}, {"busbw_Bps", {S}, m.busbw}, {"time_s", {S, I}, m.samples}};
  if (m.mode == "blocking") g.f64.push_back({"start_p50_s", {S}, m.start_p50});
  if (m.mode == "async") {
    g.double_attrs = {{"compute_factor", o.compute_factor}};
    g.string_attrs.push_back({"async_definition",
                              "time_*: start then wait at once through start_allreduce/wait (pure); compute_*: the "
                              "synthetic compute alone; overall_*: start, compute, wait; overlap_pct = "
                              "max(0, 100 (1 - (overall_p50 - compute_p50) / time_p50))"});
    g.f64.push_back({"compute_s", {S, I}, m.compute_samples});
    g.f64.push_back({"overall_s", {S, I}, m.overall_samples});
    g.f64.push_back({"compute_p50_s", {S}, m.compute_p50});
    g.f64.push_back({"overall_p50_s", {S}, m.overall_p50});
    g.f64.push_back({"overlap_pct", {S}, m.overlap});
    g.i64.push_back({"compute_reps", {S}, m.compute_reps});
  }
  return g;
}

void store_allreduce_attrs(ResultsFile& file, const AllreduceOptions& o) {
  file.set_attr("kind", std::string("allreduce"));
  file.set_attr("minbytes", o.minbytes);
  file.set_attr("maxbytes", o.maxbytes);
  file.set_attr("stepfactor", o.stepfactor);
  file.set_attr("warmup", o.warmup);
  file.set_attr("iters", o.iters);
  file.set_attr("mode", o.mode);
  file.set_attr("compute_factor", o.compute_factor);
  file.set_attr("timeout_s", o.timeout_s);
}

}  // namespace lb
