#include "options/bench_options.hpp"

#include "app/cli_flags.hpp"
#include "core/step_graph.hpp"

namespace lb {

void add_bench_flags(CLI::App& app, BenchOptions& o) {
  app.add_option("--model", o.model, "config.json, a directory holding one, or a name under configs/models/")->required();
  app.add_option("--weights", o.weights, "'random' (seeded N(0,0.02)) or a Hugging Face checkpoint directory")
      ->capture_default_str();
  app.add_option("--variant", o.variants, "comma list of " + variant_names() + ", or 'all'")->capture_default_str();
  app.add_option("--ladder-layers", o.ladder_layers,
                 "hybrid-ladder: number of final layers with the ladder residual (default: config key ladder_layers, else half)")
      ->check(kNonNegative);
  app.add_option("--desync-pattern", o.desync_pattern,
                 "desync: which all-reduces each layer keeps: default (the MLP's), 4x (the MLP's in every second layer) "
                 "or infinite (the last layer's MLP only) (default: config key desync_pattern, else default)")
      ->check(CLI::IsMember({"default", "4x", "infinite"}));
  // Distinct values: a repeated one would measure the same cell twice; an empty element is an error.
  add_int_list_option(app, "--batch", o.batches, 1, "comma list of distinct batch sizes")
      ->each([&o](const std::string&) { o.batch_given = true; });
  add_int_list_option(app, "--prompt-len", o.prompt_lens, 1, "comma list of distinct prompt lengths (tokens per sequence)")
      ->each([&o](const std::string&) { o.prompt_len_given = true; });
  app.add_option("--prompt-ids", o.prompt_ids,
                 "token ids of the prompts instead of random ones: a text file, one prompt per line, or a .npy [B, P] "
                 "int array; batch and prompt length come from it (or must match --batch/--prompt-len)");
  app.add_option("--eval-tokens", o.eval_tokens,
                 "a long token stream (the --prompt-ids formats; lines read one after the other) cut into windows of "
                 "--prompt-len: each variant's mean next-token NLL and perplexity over it, by the timed runs' forward");
  add_int_list_option(app, "--gen-len", o.gen_lens, 2,
                      "comma list of distinct generated lengths per sequence (1 from prefill + gen_len-1 decode steps)");
  app.add_option("--warmup", o.warmup, "untimed warm-up generations per variant and batch")
      ->check(kNonNegative)
      ->capture_default_str();
  app.add_option("--reps", o.reps, "timed generations per variant and batch")->check(kPositive)->capture_default_str();
  app.add_option("--seed", o.seed, "seed of random weights and prompts")->capture_default_str();
  app.add_option("--dtype", o.dtype,
                 "storage of the weight matrices: fp32, bf16 or fp16 (fp32 accumulation; the CPU widens 16-bit weights "
                 "in registers); default: a checkpoint's own type, else fp32")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}))
      ->each([&o](const std::string&) { o.dtype_given = true; })
      ->capture_default_str();
  app.add_option("--out", o.out, "results file (HDF5), written as <out>.partial until complete; with --plan, a JSON file");
  app.add_flag("--overwrite", o.overwrite, "replace an existing --out file");
  add_comm_flags(app, o.link, o.timeout_s);
  app.add_flag("--save-logits", o.save_logits, "store rank 0's prefill logits at the last prompt position");
  app.add_flag("--roofline", o.roofline,
               "measure STREAM read/copy/triad and the run's GEMM shapes on every rank first, report each run as % "
               "of them, and calibrate each cell between its generations (a prefill and a decode step timed kernel by kernel, the "
               "other GEMMs on the model's weights, the "
               "all-reduce hand-off; docs/measurement.md)");
  o.cuda_graph = StepGraph::available();
  app.add_flag("--cuda-graph,!--no-cuda-graph", o.cuda_graph,
               "replay each decode step from a CUDA graph captured once per variant and batch (GPU build; default there)")
      ->capture_default_str();
  app.add_flag("--breakdown", o.breakdown,
               "time each layer's attention and MLP during decode: compute and waiting for communication");
  app.add_flag("--plan", o.plan, "print what the configuration costs per rank (memory, FLOPs, bytes, all-reduces) and exit");
  app.add_option("--tp", o.plan_tp, "with --plan: the tensor-parallel degree to plan for")->check(kPositive)->capture_default_str();
  app.add_option("--device-mem-gib", o.device_mem_gib, "with --plan: device memory per rank")
      ->check(kNonNegative)
      ->capture_default_str();
}

std::vector<Cell> sweep_cells(const BenchOptions& o) {
  std::vector<Cell> cells;
  for (const int64_t batch : o.batches)
    for (const int64_t prompt_len : o.prompt_lens)
      for (const int64_t gen_len : o.gen_lens) cells.push_back({batch, prompt_len, gen_len});
  return cells;
}

}  // namespace lb
