#include "bench_options.hpp"

namespace lb {

void add_bench_flags(CLI::App& app, BenchOptions& o) {
  app.add_option("--model", o.model, "config.json, a directory holding one, or a name under configs/models/")->required();
  app.add_option("--weights", o.weights, "'random' (seeded N(0,0.02)) or a Hugging Face checkpoint directory")
      ->capture_default_str();
  app.add_option("--variant", o.variants, "comma list of standard, ladder, upper-bound, or 'all'")->capture_default_str();
  app.add_option("--batch", o.batches, "comma list of batch sizes")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--prompt-len", o.prompt_len, "prompt tokens per sequence")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--gen-len", o.gen_len, "generated tokens per sequence (1 from prefill + gen_len-1 decode steps)")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 30))
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "untimed warm-up generations per variant and batch")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--reps", o.reps, "timed generations per variant and batch")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", o.seed, "seed of random weights and prompts")->capture_default_str();
  app.add_option("--dtype", o.dtype, "compute dtype (the CPU build computes in fp32)")
      ->check(CLI::IsMember({"fp32"}))
      ->capture_default_str();
  app.add_option("--out", o.out, "results file (HDF5); written as <out>.partial until complete")->required();
  app.add_flag("--overwrite", o.overwrite, "replace an existing --out file");
  app.add_flag("--save-logits", o.save_logits, "store rank 0's prefill logits at the last prompt position");
  app.add_option("--link-latency-us", o.link.latency_us, "emulated link: latency added to every all-reduce (us)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--link-bandwidth-gbps", o.link.bandwidth_gbps,
                 "emulated link: bandwidth in Gbit/s, adds 2(P-1)/P*bytes/bandwidth per all-reduce (0 = off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--timeout-s", o.timeout_s, "abort the job if one all-reduce waits longer than this (0 = never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

}  // namespace lb
