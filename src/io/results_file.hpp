// The HDF5 results file (format v1, docs/results-format.md). Written by rank 0 only: created as
// "<path>.partial", one group per run written and flushed as soon as it is measured, renamed to
// <path> by finalize(). A job that dies leaves a readable .partial with every finished run.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lb {

// --eval-tokens: the variant's next-token negative log-likelihood over a token stream, scored by
// the same forward as the timed runs (written as the run's subgroup `eval`).
struct EvalRecord {
  std::string tokens_file;
  int64_t window = 0, windows = 0;  // the stream cut into `windows` windows of `window` tokens
  int64_t scored = 0;               // next-token predictions scored: windows * (window - 1)
  int64_t unused = 0;               // the stream's tail after the last whole window
  double nll_mean = 0;              // mean -log p(next token), natural log
  double perplexity = 0;            // exp(nll_mean)
};

struct RunRecord {
  std::string variant, dtype, model;
  int64_t ladder_layers = -1;  // hybrid-ladder only: written as attribute `ladder_layers`
  std::string desync_pattern;  // desync only: written as attribute `desync_pattern`
  int64_t batch = 0, prompt_len = 0, gen_len = 0, tp = 0, warmup = 0, reps = 0, vocab = 0;
  std::vector<double> prefill_s, decode_s, tokens_per_s;  // [reps]
  std::vector<double> decode_step_s;                      // [reps, gen_len - 1]
  std::vector<int32_t> prompt;                            // [batch, prompt_len]
  std::vector<int32_t> tokens;                            // [batch, gen_len]
  std::vector<float> logits;                              // [batch, vocab] or empty
  // --breakdown: per decode step, per layer and module (attention, MLP) [reps, layers, 2]
  int64_t layers = 0;
  // Derived float64 attributes (achieved bandwidth and FLOP rate, % of the roofline).
  std::vector<std::pair<std::string, double>> extra_attrs;
  std::vector<double> breakdown_compute_s, breakdown_wait_s;  // empty without --breakdown
  bool has_eval = false;  // --eval-tokens
  EvalRecord eval;
};

// A group of any other kind of measurement (e.g. ladder-allreduce's /allreduce/<mode>): scalar
// attributes and row-major datasets; each dataset's data must hold the product of its dims.
struct GroupRecord {
  template <class T>
  struct Data {
    std::string name;
    std::vector<hsize_t> dims;
    std::vector<T> data;
  };
  std::vector<std::pair<std::string, std::string>> string_attrs;
  std::vector<std::pair<std::string, int64_t>> int_attrs;
  std::vector<std::pair<std::string, double>> double_attrs;
  std::vector<Data<double>> f64;
  std::vector<Data<int64_t>> i64;
};

class ResultsFile {
 public:
  static constexpr int64_t kFormatVersion = 1;

  // Throws UserError if the file cannot be created: missing or unwritable directory, or an
  // existing file without `overwrite`. Cheap; run before any heavy allocation.
  static void check_output_path(const std::string& path, bool overwrite);

  ResultsFile(const std::string& path, bool overwrite);
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;

  void set_attr(const std::string& name, const std::string& value);
  void set_attr(const std::string& name, int64_t value);
  void set_attr(const std::string& name, double value);
  void set_attr(const std::string& name, const std::vector<std::string>& values);
  void set_attr(const std::string& name, const std::vector<int64_t>& values);

  void write_run(const RunRecord& run);  // one new /runs/rNNNN group, then flush
  // One new group at `path` (e.g. "allreduce/blocking"; missing parents are created), then flush.
  void write_group(const std::string& path, const GroupRecord& group);
  // write_group over an existing group at `path` (deleted first): a record that grows as a job
  // measures, rewritten after each step so that a killed job keeps every step it finished.
  void replace_group(const std::string& path, const GroupRecord& group);
  void finalize();                       // complete=1, finished_utc, close, rename
  void close_incomplete();               // close, keeping complete=0 and the .partial name

  const std::string& partial_path() const { return partial_; }

 private:
  std::string path_, partial_;
  hid_t file_ = -1, runs_ = -1;
  int64_t next_run_ = 0;
};

}  // namespace lb
