#include "bench/ladder_bench.hpp"

#include "bench/agreement.hpp"
#include "comm/comm_backend.hpp"
#include "core/errors.hpp"
#include "kernels/gemm.hpp"
#include "bench/generation.hpp"
#include "io/job_provenance.hpp"
#include "kernels/kernels.hpp"
#include "io/provenance.hpp"
#include "bench/plan.hpp"
#include "model/random_init.hpp"
#include "io/results_file.hpp"
#include "bench/roofline.hpp"
#include "bench/stats.hpp"
#include "bench/step_graph.hpp"
#include "bench/stop_signal.hpp"
#include "comm/watchdog.hpp"

#include <csignal>
#include <cstdio>
#include <memory>
#include <numeric>

namespace lb {
namespace {

// Seeded prompt token ids, the same on every rank and for every variant.
std::vector<int32_t> make_prompt(uint64_t seed, int64_t batch, int64_t len, int64_t vocab) {
  std::vector<int32_t> p(size_t(batch * len));
  const uint64_t key = splitmix64(seed ^ name_hash("prompt"));
  for (size_t i = 0; i < p.size(); ++i) p[i] = int32_t(splitmix64(key ^ i) % uint64_t(vocab));
  return p;
}

void barrier(MPI_Comm world) {
  const WatchdogScope watch("the barrier before a generation");
  MPI_Barrier(world);
}

// One generation's timings reduced over ranks: the max (a TP step ends with its slowest rank),
// and whether any rank was asked to stop.
struct Sample {
  GenerationTiming timing;
  int stop_signal = 0;
};

Sample reduce_over_ranks(const GenerationTiming& t, MPI_Comm world) {
  const WatchdogScope watch("the timing reduction after a generation");
  std::vector<double> v = {double(stop_signal()), t.prefill_s, t.decode_s};
  v.insert(v.end(), t.step_s.begin(), t.step_s.end());
  MPI_Allreduce(MPI_IN_PLACE, v.data(), int(v.size()), MPI_DOUBLE, MPI_MAX, world);
  Sample s;
  s.stop_signal = int(v[0]);
  s.timing.prefill_s = v[1];
  s.timing.decode_s = v[2];
  s.timing.step_s.assign(v.begin() + 3, v.end());
  return s;
}

// With --breakdown and standard, ladder and upper-bound measured: how much of standard's
// communication ladder hides, in the OSU non-blocking sense (docs/measurement.md):
// overlap = max(0, 100 (1 - (T_ladder - T_upper) / T_comm)), per decode step, T_comm being the
// time standard waits for its all-reduces.
void print_overlap(const std::vector<RunRecord>& runs, const std::vector<Variant>& variants, const BenchOptions& o) {
  const RunRecord *standard = nullptr, *ladder = nullptr, *upper = nullptr;
  for (size_t i = 0; i < variants.size(); ++i) {
    if (runs[i].tokens_per_s.empty()) continue;
    if (variants[i] == Variant::Standard) standard = &runs[i];
    if (variants[i] == Variant::Ladder) ladder = &runs[i];
    if (variants[i] == Variant::UpperBound) upper = &runs[i];
  }
  if (!o.breakdown || !standard || !ladder || !upper) return;
  const auto step = [&](const RunRecord& r) { return summarize(r.decode_s).median / double(o.gen_len - 1); };
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

// Writes the runs of one batch that measured at least one repetition and prints their table rows.
// Returns how many were written.
int64_t write_and_print(ResultsFile& file, std::vector<RunRecord>& runs, const std::vector<Variant>& variants,
                        const ModelConfig& cfg, const BenchOptions& o, WeightType weights, int64_t batch, int tp,
                        const std::vector<int32_t>& prompt, const Roofline* roofline) {
  // What one decode step and one prefill move and compute per rank (the --plan arithmetic).
  PlanInput in;
  in.tp = tp;
  in.batch = batch;
  in.prompt_len = o.prompt_len;
  in.gen_len = o.gen_len;
  in.dtype_bytes = weight_type_bytes(weights);
  in.cache_dtype_bytes = sizeof(real);
  const Plan plan = make_plan(cfg, in, {});
  double standard_tps = 0;
  for (size_t i = 0; i < variants.size(); ++i)
    if (variants[i] == Variant::Standard && !runs[i].tokens_per_s.empty())
      standard_tps = summarize(runs[i].tokens_per_s).median;
  int64_t written = 0;
  std::vector<std::string> roofline_lines;
  for (size_t i = 0; i < variants.size(); ++i) {
    RunRecord& r = runs[i];
    if (r.tokens_per_s.empty()) continue;
    r.variant = to_string(variants[i]);
    r.dtype = o.dtype;
    r.model = cfg.name;
    r.batch = batch;
    r.prompt_len = o.prompt_len;
    r.gen_len = o.gen_len;
    r.tp = tp;
    r.warmup = o.warmup;
    r.reps = int64_t(r.tokens_per_s.size());  // fewer than --reps only if the job was stopped
    r.vocab = cfg.vocab_size;
    r.layers = cfg.num_layers;
    if (variants[i] == Variant::HybridLadder) r.ladder_layers = cfg.hybrid_ladder_layers();
    r.prompt = prompt;
    const double step_s = summarize(r.decode_s).median / double(o.gen_len - 1);
    const double decode_Bps = plan.decode_bytes / step_s, prefill_flops = plan.prefill_flops / summarize(r.prefill_s).median;
    r.extra_attrs = {{"cuda_graph", double(o.cuda_graph && !o.breakdown)},
                     {"decode_bytes_per_step", plan.decode_bytes},
                     {"decode_achieved_Bps", decode_Bps},
                     {"prefill_flop", plan.prefill_flops},
                     {"prefill_achieved_flops", prefill_flops}};
    // Summary statistics next to the samples, so a reader without the analysis sees the spread.
    for (const auto& [name, samples] : {std::pair<const char*, const std::vector<double>*>{"prefill_s", &r.prefill_s},
                                        {"decode_s", &r.decode_s},
                                        {"decode_step_s", &r.decode_step_s},
                                        {"tokens_per_s", &r.tokens_per_s}}) {
      const Summary st = summarize(*samples);
      for (const auto& [stat, v] : {std::pair<const char*, double>{"median", st.median}, {"mean", st.mean},
                                    {"stddev", st.stddev}, {"min", st.min}, {"max", st.max}, {"p95", st.p95}, {"cv", st.cv}})
        r.extra_attrs.push_back({std::string(name) + "_" + stat, v});
    }
    if (roofline) {
      const double decode_pct = 100 * decode_Bps / roofline->stream_triad_Bps;
      const double prefill_pct = 100 * prefill_flops / roofline->gemm_flops;
      r.extra_attrs.push_back({"decode_pct_of_stream_triad", decode_pct});
      r.extra_attrs.push_back({"prefill_pct_of_gemm", prefill_pct});
      char line[256];
      std::snprintf(line, sizeof line,
                    "#   %-13s decode %.2f GB/s per rank = %.0f%% of STREAM triad; prefill %.1f GFLOP/s = %.0f%% of GEMM",
                    r.variant.c_str(), decode_Bps * 1e-9, decode_pct, prefill_flops * 1e-9, prefill_pct);
      roofline_lines.push_back(line);
    }
    file.write_run(r);
    ++written;
    const Summary tps = summarize(r.tokens_per_s);
    char speedup[16] = "-";
    if (standard_tps > 0) std::snprintf(speedup, sizeof speedup, "%.3fx", tps.median / standard_tps);
    std::printf("%6lld  %-13s %14.3f %14.3f %10.2f [%6.2f, %6.2f] %8s\n", (long long)batch, r.variant.c_str(),
                1e3 * summarize(r.prefill_s).median, 1e3 * summarize(r.decode_s).median, tps.median, tps.min, tps.max,
                speedup);
  }
  print_overlap(runs, variants, o);
  for (const std::string& line : roofline_lines) std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  return written;
}

void print_header(const BenchOptions& o, const ModelConfig& c, int world_size, const std::string& cmdline,
                  const Comm& comm) {
  std::printf("# ladder-bench  %s\n", cmdline.c_str());
  std::printf("# model %s: layers %lld, hidden %lld, heads %lld, kv_heads %lld, ffn %lld, vocab %lld\n", c.name.c_str(),
              (long long)c.num_layers, (long long)c.hidden_size, (long long)c.num_heads, (long long)c.num_kv_heads,
              (long long)c.intermediate_size, (long long)c.vocab_size);
  std::printf("# tp %d (MPI ranks), backend %s, device %s (Kokkos %s), weights %s in %s (activations and KV cache "
              "fp32), all-reduces in %s, seed %llu\n",
              world_size, comm.name().c_str(), device_name().c_str(), Kokkos::DefaultExecutionSpace::name(),
              o.weights.c_str(), o.dtype.c_str(), comm.wire_type().c_str(), (unsigned long long)o.seed);
  std::printf("# decode steps: %s\n", !o.cuda_graph ? "eager"
                                      : o.breakdown  ? "eager (--breakdown fences every module; no CUDA graph)"
                                                     : "CUDA graph, captured once per variant and batch");
  std::printf("# prompt_len %lld, gen_len %lld, warmup %lld, reps %lld, variants %s\n", (long long)o.prompt_len,
              (long long)o.gen_len, (long long)o.warmup, (long long)o.reps, o.variants.c_str());
  if (o.link.enabled())
    std::printf("# emulated link: latency %.1f us, bandwidth %.3g Gbit/s per all-reduce (EMULATED, not measured)\n",
                o.link.latency_us, o.link.bandwidth_gbps);
  else
    std::printf("# link: the machine's own (no emulation)\n");
  std::printf("# out %s\n", o.out.c_str());
  std::fflush(stdout);
}

void print_table_header() {
  std::printf("#\n%6s  %-13s %14s %14s %26s %8s\n", "batch", "variant", "prefill_ms", "decode_ms", "tokens/s med [min, max]",
              "speedup");
  std::fflush(stdout);
}

}  // namespace

int run_benchmark(const BenchOptions& o, MPI_Comm world, int argc, char** argv) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);

  // --- validation: everything that can be wrong with the input, before any heavy allocation ---
  ModelConfig cfg;
  std::vector<Variant> variants;
  WeightType weights = WeightType::F32;
  std::unique_ptr<WeightSource> source;
  if (!all_ranks_ok(world, [&] {
        if (o.out.empty()) throw UserError("--out FILE.h5 is required (where the results go)");
        variants = parse_variant_list(o.variants);
        cfg = load_model_config(o.model);
        check_tp_divides(cfg, size);
        weights = parse_weight_type(o.dtype);
        if (!gemm_supports(weights))
          throw UserError("--dtype " + o.dtype + ": this CPU build stores weights in fp32 (bf16/fp16 are for the GPU build and --plan)");
        if (o.cuda_graph && !StepGraph::available())
          throw UserError("--cuda-graph: this CPU build has no CUDA graphs (they are for the GPU build)");
        if (o.ladder_layers > cfg.num_layers)
          throw UserError("--ladder-layers " + std::to_string(o.ladder_layers) + " exceeds the model's " +
                          std::to_string(cfg.num_layers) + " layers");
        if (o.ladder_layers >= 0) cfg.ladder_layers = o.ladder_layers;
        if (cfg.head_dim() > kMaxHeadDim)
          throw UserError("model " + cfg.name + ": head dimension " + std::to_string(cfg.head_dim()) +
                          " exceeds the supported " + std::to_string(kMaxHeadDim));
        if (o.prompt_len + o.gen_len - 1 > cfg.max_position_embeddings)
          throw UserError("--prompt-len + --gen-len - 1 = " + std::to_string(o.prompt_len + o.gen_len - 1) +
                          " exceeds max_position_embeddings " + std::to_string(cfg.max_position_embeddings) +
                          " of model " + cfg.name);
        source = o.weights == "random" ? make_random_source(o.seed) : make_checkpoint_source(o.weights);
        validate_source(*source, cfg);
        if (rank == 0) ResultsFile::check_output_path(o.out, o.overwrite);
      }))
    return 1;

  const std::string cmdline = quoted_command_line(argc, argv);
  const Shard shard = Shard::of(cfg, rank, size);
  auto comm = make_backend_comm(world, o.link, o.timeout_s, weights);
  if (rank == 0) print_header(o, cfg, size, cmdline, *comm);
  Transformer model(cfg, shard, load_weights(cfg, shard, *source, weights), *comm);
  std::vector<Schedule> schedules;
  for (Variant v : variants) schedules.emplace_back(v, cfg, size);

  std::unique_ptr<ResultsFile> file;
  if (rank == 0) file = std::make_unique<ResultsFile>(o.out, o.overwrite);
  write_job_provenance(file.get(), world, cmdline, *comm, o.link);
  if (rank == 0) {
    file->set_attr("model", cfg.name);
    file->set_attr("model_config", cfg.raw.dump());
    file->set_attr("weights", source->describe());
    file->set_attr("seed", int64_t(o.seed));
  }
  // The machine's own ceilings, measured in this job, so every run can be read as % of them.
  std::unique_ptr<Roofline> roofline;
  if (o.roofline) {
    RooflineOptions ro;
    ro.gemm_m = std::min<int64_t>(o.prompt_len * o.batches.front(), 4096);  // a prefill-shaped GEMM
    ro.gemm_n = (shard.heads + 2 * shard.kv_heads) * cfg.head_dim();
    ro.gemm_k = cfg.hidden_size;
    roofline = std::make_unique<Roofline>(measure_roofline(world, ro));
    if (rank == 0) {
      print_roofline(stdout, *roofline);
      store_roofline(*file, *roofline);
    }
  }
  if (rank == 0) print_table_header();

  // Measurement, batch by batch. Every generation ends with one reduction over ranks, which also
  // carries "a rank received SIGTERM/SIGINT", so all ranks stop after the same generation.
  int stop = 0;
  int64_t written = 0;
  for (const int64_t batch : o.batches) {
    Generator gen(model, batch, o.prompt_len, o.gen_len, o.cuda_graph);
    const std::vector<int32_t> prompt = make_prompt(o.seed, batch, o.prompt_len, cfg.vocab_size);
    for (int64_t w = 0; w < o.warmup && !stop; ++w)
      for (size_t i = 0; i < variants.size() && !stop; ++i) {
        barrier(world);
        stop = reduce_over_ranks(gen.run(prompt, schedules[i], false), world).stop_signal;
      }
    std::vector<RunRecord> runs(variants.size());
    for (int64_t rep = 0; rep < o.reps && !stop; ++rep)
      for (size_t i = 0; i < variants.size() && !stop; ++i) {
        const bool last = rep == o.reps - 1;
        barrier(world);
        ModuleProfile profile;
        const Sample t = reduce_over_ranks(
            gen.run(prompt, schedules[i], last && o.save_logits, o.breakdown ? &profile : nullptr), world);
        stop = t.stop_signal;
        RunRecord& r = runs[i];
        if (o.breakdown) {
          // The slowest rank's time per module, as for every other sample.
          for (auto* v : {&profile.compute_s, &profile.wait_s})
            MPI_Allreduce(MPI_IN_PLACE, v->data(), int(v->size()), MPI_DOUBLE, MPI_MAX, world);
          r.breakdown_compute_s.insert(r.breakdown_compute_s.end(), profile.compute_s.begin(), profile.compute_s.end());
          r.breakdown_wait_s.insert(r.breakdown_wait_s.end(), profile.wait_s.begin(), profile.wait_s.end());
        }
        r.prefill_s.push_back(t.timing.prefill_s);
        r.decode_s.push_back(t.timing.decode_s);
        r.tokens_per_s.push_back(double(batch * o.gen_len) / (t.timing.prefill_s + t.timing.decode_s));
        r.decode_step_s.insert(r.decode_step_s.end(), t.timing.step_s.begin(), t.timing.step_s.end());
        r.tokens = gen.tokens();
        if (last && o.save_logits) r.logits = gen.prefill_logits();
      }
    if (rank == 0) written += write_and_print(*file, runs, variants, cfg, o, weights, batch, size, prompt, roofline.get());
    if (stop) break;
  }
  if (rank != 0) return stop ? 128 + stop : 0;
  if (stop) {
    // Keep the .partial name: the job did not finish. Every run written so far stays readable.
    const std::string name = signal_name(stop);
    file->set_attr("interrupted", name);
    file->close_incomplete();
    std::fprintf(stderr, "%s: stopped by %s after the measurement in progress; %lld runs are in %s\n",
                 program_name(), name.c_str(), static_cast<long long>(written), file->partial_path().c_str());
    return 128 + stop;
  }
  file->finalize();
  std::printf("# wrote %s\n", o.out.c_str());
  return 0;
}

}  // namespace lb
