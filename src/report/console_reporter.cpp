#include "report/bench_reporters.hpp"

#include "report/run_records.hpp"
#include "measure/stats.hpp"
#include "app/stop_signal.hpp"
#include "comm/comm_backend.hpp"
#include "core/errors.hpp"
#include "core/types.hpp"
#include "io/provenance.hpp"
#include "kernels/gemm.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>

namespace lb {
namespace {

std::string comma_list(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

const RunRecord* find(const std::vector<RunRecord>& runs, Variant v) {
  for (const RunRecord& r : runs)
    if (r.variant == to_string(v)) return &r;
  return nullptr;
}

// With --breakdown and standard, ladder and upper-bound measured: how much of standard's
// communication ladder hides, in the OSU non-blocking sense (docs/measurement.md):
// overlap = max(0, 100 (1 - (T_ladder - T_upper) / T_comm)), per decode step, T_comm being the
// time standard waits for its all-reduces.
void print_overlap(const std::vector<RunRecord>& runs) {
  const RunRecord *standard = find(runs, Variant::Standard), *ladder = find(runs, Variant::Ladder),
                  *upper = find(runs, Variant::UpperBound);
  if (!standard || !ladder || !upper || standard->breakdown_wait_s.empty()) return;
  const auto step = [](const RunRecord& r) { return summarize(r.decode_s).median / double(r.gen_len - 1); };
  const size_t per_rep = standard->breakdown_wait_s.size() / standard->tokens_per_s.size();
  std::vector<double> comm;
  for (size_t rep = 0; rep < standard->tokens_per_s.size(); ++rep) {
    const auto begin = standard->breakdown_wait_s.begin() + long(rep * per_rep);
    comm.push_back(std::accumulate(begin, begin + long(per_rep), 0.0));
  }
  const double t_comm = summarize(comm).median;
  const double overlap = t_comm > 0 ? std::max(0.0, 100 * (1 - (step(*ladder) - step(*upper)) / t_comm)) : 0;
  std::printf("#   decode step: standard %.3f ms (%.3f ms waiting for all-reduces), ladder %.3f ms, upper-bound %.3f ms"
              " -> ladder hides %.0f%% of the communication\n",
              1e3 * step(*standard), 1e3 * t_comm, 1e3 * step(*ladder), 1e3 * step(*upper), overlap);
}

}  // namespace

ConsoleReporter::ConsoleReporter(const BenchOptions& o, const ModelConfig& c, int tp, const std::string& cmdline,
                                 const Comm& comm)
    : o_(o) {
  std::printf("# ladder-bench  %s\n", cmdline.c_str());
  std::printf("# model %s: layers %lld, hidden %lld, heads %lld, kv_heads %lld, ffn %lld, vocab %lld\n", c.name.c_str(),
              (long long)c.num_layers, (long long)c.hidden_size, (long long)c.num_heads, (long long)c.num_kv_heads,
              (long long)c.intermediate_size, (long long)c.vocab_size);
  std::printf("# tp %d (MPI ranks), backend %s, device %s (Kokkos %s), weights %s stored in %s, GEMMs in %s "
              "(activations and KV cache fp32), all-reduces in %s, seed %llu\n",
              tp, comm.name().c_str(), device_name().c_str(), Kokkos::DefaultExecutionSpace::name(), o.weights.c_str(),
              o.dtype.c_str(), gemm_compute_dtype(parse_dtype(o.dtype)).c_str(), comm.wire_type().c_str(),
              (unsigned long long)o.seed);
  if (const std::string target = cpu_kernel_target(); !target.empty()) {
    const char* cap = std::getenv("LB_MAX_CPU_ISA");
    std::printf("# CPU kernels: %s, LB_MAX_CPU_ISA %s\n", target.c_str(), cap ? cap : "unset (the best this CPU has)");
  }
  std::printf("# decode steps: %s\n", !o.cuda_graph ? "eager"
                                      : o.breakdown  ? "eager (--breakdown fences every module; no CUDA graph)"
                                                     : "CUDA graph, captured once per variant and batch");
  const std::vector<Variant> variants = parse_variant_list(o.variants);
  const bool desync = std::find(variants.begin(), variants.end(), Variant::Desync) != variants.end();
  std::printf("# prompt_len %s, gen_len %s, warmup %lld, reps %lld, variants %s%s\n", comma_list(o.prompt_lens).c_str(),
              comma_list(o.gen_lens).c_str(), (long long)o.warmup, (long long)o.reps, o.variants.c_str(),
              desync ? (" (desync pattern " + to_string(c.desync_pattern) + ")").c_str() : "");
  if (o.link.enabled())
    std::printf("# emulated link: latency %.1f us, bandwidth %.3g Gbit/s per all-reduce (EMULATED, not measured)\n",
                o.link.latency_us, o.link.bandwidth_gbps);
  else
    std::printf("# link: the machine's own (no emulation)\n");
  std::printf("# out %s\n", o.out.c_str());
  std::fflush(stdout);
}

void ConsoleReporter::roofline(const Roofline& r) { print_roofline(stdout, r); }

void ConsoleReporter::step_calibration(const Cell& cell, const StepCalibration& c) {
  print_step_calibration(stdout, cell, c);
}

void ConsoleReporter::eval(const std::string& variant, const EvalRecord& e) {
  std::printf("# eval %-13s NLL %.6f nats/token, perplexity %.4f over %lld tokens (%lld windows of %lld from %s%s)\n",
              variant.c_str(), e.nll_mean, e.perplexity, (long long)e.scored, (long long)e.windows,
              (long long)e.window, e.tokens_file.c_str(),
              e.unused ? (", " + std::to_string(e.unused) + " tail tokens unused").c_str() : "");
}

void ConsoleReporter::table_header() {
  std::printf("#\n%6s %7s %7s  %-13s %14s %14s %26s %8s\n", "batch", "prompt", "gen", "variant", "prefill_ms", "decode_ms",
              "tokens/s med [min, max]", "speedup");
  table_started_ = true;
}

void ConsoleReporter::cell(const std::vector<RunRecord>& runs) {
  if (!table_started_) table_header();
  const RunRecord* standard = find(runs, Variant::Standard);
  const double standard_tps = standard ? summarize(standard->tokens_per_s).median : 0;
  for (const RunRecord& r : runs) {
    const Summary tps = summarize(r.tokens_per_s);
    char speedup[16] = "-";
    if (standard_tps > 0) std::snprintf(speedup, sizeof speedup, "%.3fx", tps.median / standard_tps);
    std::printf("%6lld %7lld %7lld  %-13s %14.3f %14.3f %10.2f [%6.2f, %6.2f] %8s\n", (long long)r.batch,
                (long long)r.prompt_len, (long long)r.gen_len, r.variant.c_str(),
                1e3 * summarize(r.prefill_s).median, 1e3 * summarize(r.decode_s).median, tps.median, tps.min, tps.max,
                speedup);
  }
  if (o_.breakdown) print_overlap(runs);
  for (const RunRecord& r : runs) {
    const double decode_pct = record_attr(r, "decode_pct_of_stream_read");
    if (std::isnan(decode_pct)) continue;
    std::printf("#   %-13s decode %.2f GB/s per rank = %.0f%% of STREAM read; prefill %.1f GFLOP/s = %.0f%% of GEMM\n",
                r.variant.c_str(), record_attr(r, "decode_achieved_Bps") * 1e-9, decode_pct,
                record_attr(r, "prefill_achieved_flops") * 1e-9, record_attr(r, "prefill_pct_of_gemm"));
  }
  std::fflush(stdout);
}

void ConsoleReporter::finish(int stop_signal, int64_t runs_written) {
  if (stop_signal) {
    std::fprintf(stderr, "%s: stopped by %s after the measurement in progress; %lld runs are in %s.partial\n",
                 program_name(), signal_name(stop_signal).c_str(), static_cast<long long>(runs_written), o_.out.c_str());
    return;
  }
  std::printf("# wrote %s\n", o_.out.c_str());
}

}  // namespace lb
