// The options of ladder-bench, their command-line flags and their validation.
#pragma once

#include "comm/link_model.hpp"
#include "model/variant.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct BenchOptions {
  std::string model;              // config.json, directory, or short name
  std::string weights = "random"; // "random" or a Hugging Face checkpoint directory
  std::string variants = "all";
  int64_t ladder_layers = -1;     // hybrid-ladder: final layers with ladder residual (-1: config or L/2)
  std::string desync_pattern;     // desync: default | 4x | infinite (empty: config key, else default)
  // Every (batch, prompt_len, gen_len) of these lists is measured (llama-bench's cartesian sweep).
  std::vector<int64_t> batches = {1};
  std::vector<int64_t> prompt_lens = {1024}, gen_lens = {512};  // the paper's protocol
  std::string prompt_ids;  // a file of token ids: the prompts (and so the batch and prompt length)
  std::string eval_tokens;  // a token stream scored per variant in windows of prompt_len (quality)
  bool batch_given = false, prompt_len_given = false;  // on the command line (checked against prompt_ids)
  int64_t warmup = 5, reps = 10;
  uint64_t seed = 1;
  std::string dtype = "fp32";
  bool dtype_given = false;  // on the command line (else a checkpoint keeps its stored type)
  std::string out;
  bool overwrite = false;
  bool save_logits = false;
  bool breakdown = false;
  bool roofline = false;  // measure the machine's memory-bandwidth and GEMM ceilings first
  bool cuda_graph = false;  // replay captured decode steps (default on in the GPU build)
  LinkModel link;
  double timeout_s = 300;
  // --plan: print per-rank memory, FLOPs, bytes and all-reduces for TP `plan_tp`; run nothing.
  bool plan = false;
  int64_t plan_tp = 1;
  double device_mem_gib = 80;
};

// Registers every flag of `o` on `app`, with types and ranges checked by CLI11.
void add_bench_flags(CLI::App& app, BenchOptions& o);

// One point of the sweep.
struct Cell {
  int64_t batch = 1, prompt_len = 1, gen_len = 2;
};
// Every (batch, prompt_len, gen_len) of the lists, batch outermost, in the order given.
std::vector<Cell> sweep_cells(const BenchOptions& o);

}  // namespace lb
