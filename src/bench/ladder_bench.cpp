#include "bench/ladder_bench.hpp"

#include "bench/evaluation.hpp"

#include "app/agreement.hpp"
#include "report/bench_reporters.hpp"
#include "bench/generation.hpp"
#include "plan/memory_fit.hpp"
#include "bench/prompt_ids.hpp"
#include "measure/roofline.hpp"
#include "report/run_records.hpp"
#include "core/step_graph.hpp"
#include "measure/step_calibration.hpp"
#include "app/stop_signal.hpp"
#include "comm/comm_backend.hpp"
#include "comm/watchdog.hpp"
#include "core/errors.hpp"
#include "core/node_comm.hpp"
#include "io/job_provenance.hpp"
#include "io/provenance.hpp"
#include "kernels/gemm.hpp"
#include "kernels/kernels.hpp"
#include "model/random_init.hpp"

#include <algorithm>
#include <map>
#include <memory>

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

// The samples of each schedule, and with --roofline the cell's own calibration (StepCalibrator).
struct CellMeasurement {
  std::vector<RunRecord> runs;
  StepCalibration calibration;
};

// Warm-ups, then timed generations of every schedule interleaved (A B C A B C), with --roofline
// each preceded by a round of the cell's calibration. Every generation ends with one reduction
// over ranks, which also carries "a rank received SIGTERM/SIGINT": all ranks then set `stop` after
// the same generation.
CellMeasurement measure_cell(Transformer& model, Comm& link_free, const std::vector<Schedule>& schedules,
                             const Cell& c, const std::vector<int32_t>& prompt, const BenchOptions& o, MPI_Comm world,
                             int& stop) {
  Generator gen(model, c.batch, c.prompt_len, c.gen_len, o.cuda_graph);
  std::unique_ptr<StepCalibrator> calibrator;
  if (o.roofline)
    calibrator = std::make_unique<StepCalibrator>(model, c, link_free);
  for (int64_t w = 0; w < o.warmup && !stop; ++w)
    for (size_t i = 0; i < schedules.size() && !stop; ++i) {
      barrier(world);
      stop = reduce_over_ranks(gen.run(prompt, schedules[i], false), world).stop_signal;
    }
  CellMeasurement out;
  std::vector<RunRecord>& runs = out.runs;
  runs.resize(schedules.size());
  for (int64_t rep = 0; rep < o.reps && !stop; ++rep)
    for (size_t i = 0; i < schedules.size() && !stop; ++i) {
      const bool last = rep == o.reps - 1;
      if (calibrator) calibrator->round(world);
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
      r.tokens_per_s.push_back(double(c.batch * c.gen_len) / (t.timing.prefill_s + t.timing.decode_s));
      r.decode_step_s.insert(r.decode_step_s.end(), t.timing.step_s.begin(), t.timing.step_s.end());
      r.tokens = gen.tokens();
      if (last && o.save_logits) r.logits = gen.prefill_logits();
    }
  if (calibrator) out.calibration = calibrator->result(world);
  return out;
}

}  // namespace

int run_benchmark(const BenchOptions& given, MPI_Comm world, int argc, char** argv) {
  BenchOptions o = given;  // --prompt-ids sets the batch and prompt length
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);

  // --- validation: everything that can be wrong with the input, before any heavy allocation ---
  ModelConfig cfg;
  std::vector<Variant> variants;
  DType weights = DType::F32;
  std::unique_ptr<WeightSource> source;
  const int node_ranks = NodeComm(world).size();
  PromptIds prompt_ids;
  std::vector<int32_t> eval_stream;
  EvalWindows eval_windows_of_run;
  if (!all_ranks_ok(world, [&] {
        if (o.out.empty()) throw UserError("--out FILE.h5 is required (where the results go)");
        variants = parse_variant_list(o.variants);
        cfg = load_model_config(o.model);
        check_tp_divides(cfg, size);
        source = o.weights == "random" ? make_random_source(o.seed) : make_checkpoint_source(o.weights);
        // A checkpoint keeps the type it is stored in (real ones: bf16) unless --dtype says otherwise,
        // where that computes as fp32 does (the CPU widens the weights exactly: half the bytes, the
        // same logits); on the GPU a 16-bit type rounds the activations too, so fp32 stays the default.
        if (const std::string stored = source->stored_dtype();
            !o.dtype_given && !stored.empty() && gemm_compute_dtype(parse_dtype(stored)) == gemm_compute_dtype(DType::F32))
          o.dtype = stored;
        weights = parse_dtype(o.dtype);
        if (o.cuda_graph && !StepGraph::available())
          throw UserError("--cuda-graph: this CPU build has no CUDA graphs (they are for the GPU build)");
        if (o.ladder_layers > cfg.num_layers)
          throw UserError("--ladder-layers " + std::to_string(o.ladder_layers) + " exceeds the model's " +
                          std::to_string(cfg.num_layers) + " layers");
        if (o.ladder_layers >= 0) cfg.ladder_layers = o.ladder_layers;
        if (!o.desync_pattern.empty()) cfg.desync_pattern = parse_desync_pattern(o.desync_pattern, "--desync-pattern");
        if (size > 1 && (cfg.o_bias || cfg.mlp_bias) &&
            std::find(variants.begin(), variants.end(), Variant::Desync) != variants.end())
          throw UserError("--variant desync: model " + cfg.name +
                          " has o_proj/down_proj biases, which a rank's own stream has no defined share of when an "
                          "all-reduce is dropped (desync is computed for bias-free row-parallel projections)");
        if (!o.prompt_ids.empty()) {
          prompt_ids = read_prompt_ids(o.prompt_ids, cfg.vocab_size);
          apply_prompt_ids(prompt_ids, o);
        }
        if (!o.eval_tokens.empty()) {
          if (o.prompt_lens.size() != 1)
            throw UserError("--eval-tokens cuts the stream into windows of --prompt-len: give one prompt length");
          eval_stream = read_token_stream(o.eval_tokens, cfg.vocab_size);
          eval_windows_of_run = eval_windows(int64_t(eval_stream.size()), o.prompt_lens.front(), o.eval_tokens);
        }
        if (cfg.head_dim() > kMaxHeadDim)
          throw UserError("model " + cfg.name + ": head dimension " + std::to_string(cfg.head_dim()) +
                          " exceeds the supported " + std::to_string(kMaxHeadDim));
        const int64_t longest = *std::max_element(o.prompt_lens.begin(), o.prompt_lens.end()) +
                                *std::max_element(o.gen_lens.begin(), o.gen_lens.end()) - 1;
        if (longest > cfg.max_position_embeddings)
          throw UserError("--prompt-len + --gen-len - 1 = " + std::to_string(longest) +
                          " exceeds max_position_embeddings " + std::to_string(cfg.max_position_embeddings) +
                          " of model " + cfg.name);
        check_attention_window(cfg, longest + 1);
        const Plan need = plan_of_run(cfg, o, weights, size);
        check_memory_fit(need, memory_per_rank(node_ranks));
        // The largest all-reduce is the prefill's: batch * prompt_len rows of hidden_size in the wire type.
        const size_t prefill_bytes = size_t(need.in.batch) * size_t(need.in.prompt_len) * size_t(cfg.hidden_size) *
                                     size_t(dtype_bytes(backend_wire_type(weights)));
        check_link_within_timeout(o.link, o.timeout_s, prefill_bytes, size,
                                  "the prefill's all-reduce at --batch " + std::to_string(need.in.batch) +
                                      " --prompt-len " + std::to_string(need.in.prompt_len));
        validate_source(*source, cfg);
        if (rank == 0) ResultsFile::check_output_path(o.out, o.overwrite);
      }))
    return 1;

  const std::string cmdline = quoted_command_line(argc, argv);
  const Shard shard = Shard::of(cfg, rank, size);
  auto comm = make_backend_comm(world, o.link, o.timeout_s, backend_wire_type(weights));
  // Rank 0 reports: the results file first (what is measured is never lost), then the log.
  std::vector<std::unique_ptr<BenchReporter>> reporters;
  std::unique_ptr<ConsoleReporter> console;
  if (rank == 0) console = std::make_unique<ConsoleReporter>(o, cfg, size, cmdline, *comm);
  Transformer model(cfg, shard, load_weights(cfg, shard, *source, weights), *comm);
  std::vector<Schedule> schedules;
  for (Variant v : variants) schedules.emplace_back(v, cfg, size);

  std::unique_ptr<Hdf5Reporter> hdf5;
  if (rank == 0) hdf5 = std::make_unique<Hdf5Reporter>(o, cfg, source->describe());
  write_job_provenance(hdf5 ? &hdf5->file() : nullptr, world, cmdline, *comm, o.link);
  if (rank == 0) {
    reporters.push_back(std::move(hdf5));
    reporters.push_back(std::move(console));
  }
  // The machine's own ceilings, measured in this job, so every run can be read as % of them.
  std::unique_ptr<Roofline> roofline;
  if (o.roofline) {
    RooflineOptions ro;
    ro.gemm_m = std::min<int64_t>(o.prompt_lens.front() * o.batches.front(), 4096);  // a prefill-shaped GEMM
    ro.gemm_n = (shard.heads + 2 * shard.kv_heads) * cfg.head_dim();
    ro.gemm_k = cfg.hidden_size;
    ro.gemm_weights = weights;  // the ceiling of the GEMMs this run makes (tensor cores in bf16/fp16)
    // Each GEMM shape of the run, decode-shaped ones streaming as many weight bytes as a decode step
    // (this rank's weights, up to 1 GiB), so the performance model (analysis predict) reads them.
    ro.model_gemms = model_gemm_shapes(cfg, shard, o.batches, o.prompt_lens);
    const int64_t weight_bytes = int64_t(plan_of_run(cfg, o, weights, size).weight_bytes);
    ro.model_gemm_stream_bytes = std::max(ro.stream_bytes, std::min<int64_t>(weight_bytes, int64_t(1) << 30));
    roofline = std::make_unique<Roofline>(measure_roofline(world, ro));
    for (auto& r : reporters) r->roofline(*roofline);
  }
  // The cell calibration's all-reduces go through a Comm of the same ranks without the emulated
  // link: it measures the machine's own all-reduce, to which the performance model adds the link.
  std::unique_ptr<Comm> link_free_comm;
  if (o.roofline && size > 1 && o.link.enabled()) link_free_comm = make_backend_comm(world, LinkModel{}, o.timeout_s, backend_wire_type(weights));
  Comm& link_free = link_free_comm ? *link_free_comm : *comm;

  // Quality first (--eval-tokens): each variant's NLL over the stream, attached to its runs.
  std::map<std::string, EvalRecord> evals;
  if (!eval_stream.empty())
    for (const Schedule& s : schedules) {
      const EvalRecord e = evaluate(model, s, eval_stream, eval_windows_of_run, o.eval_tokens);
      evals[to_string(s.variant())] = e;
      for (auto& r : reporters) r->eval(to_string(s.variant()), e);
    }

  // Measurement, cell by cell of the sweep.
  int stop = 0;
  int64_t written = 0;
  for (const Cell& cell : sweep_cells(o)) {
    const std::vector<int32_t> prompt =
        prompt_ids.ids.empty() ? make_prompt(o.seed, cell.batch, cell.prompt_len, cfg.vocab_size) : prompt_ids.ids;
    CellMeasurement m = measure_cell(model, link_free, schedules, cell, prompt, o, world, stop);
    if (rank == 0) {
      std::vector<RunRecord> records =
          build_run_records(std::move(m.runs), schedules, {o, cfg, weights, cell, size, prompt, roofline.get()});
      for (RunRecord& r : records)
        if (const auto e = evals.find(r.variant); e != evals.end()) {
          r.has_eval = true;
          r.eval = e->second;
        }
      for (auto& r : reporters) r->cell(records);
      if (m.calibration.rounds > 0)
        for (auto& r : reporters) r->step_calibration(cell, m.calibration);
      written += int64_t(records.size());
    }
    if (stop) break;
  }
  for (auto& r : reporters) r->finish(stop, written);
  return stop ? 128 + stop : 0;
}

}  // namespace lb
