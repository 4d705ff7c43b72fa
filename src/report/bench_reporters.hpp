// ladder-bench's reporters (Google Benchmark / llama-bench style): the driver builds each batch's
// records once (report/run_records.hpp); the console reporter prints the self-describing log and
// the table, the HDF5 reporter writes the results file. Both run on rank 0 only.
#pragma once

#include "options/bench_options.hpp"
#include "report/roofline_report.hpp"
#include "comm/comm.hpp"
#include "io/results_file.hpp"
#include "model/model_config.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lb {

class BenchReporter {
 public:
  virtual ~BenchReporter() = default;
  virtual void roofline(const Roofline& r) = 0;
  // The records of one cell of the sweep, in schedule order.
  virtual void cell(const std::vector<RunRecord>& runs) = 0;
  // With --roofline: the cell's own calibration (StepCalibrator), after its runs.
  virtual void step_calibration(const Cell& cell, const StepCalibration& c) = 0;
  // With --eval-tokens, before the first cell: a variant's quality over the stream. The HDF5 file
  // stores it with each of the variant's runs (RunRecord::eval), so it reports nothing here.
  virtual void eval(const std::string& variant, const EvalRecord& e) { (void)variant, (void)e; }
  // The end of the job: complete, or stopped by `stop_signal` after `runs_written` runs.
  virtual void finish(int stop_signal, int64_t runs_written) = 0;
};

class ConsoleReporter final : public BenchReporter {
 public:
  // Prints every parameter of the job (nccl-tests' self-describing header).
  ConsoleReporter(const BenchOptions& o, const ModelConfig& cfg, int tp, const std::string& cmdline, const Comm& comm);
  void roofline(const Roofline& r) override;
  void cell(const std::vector<RunRecord>& runs) override;
  void step_calibration(const Cell& cell, const StepCalibration& c) override;
  void eval(const std::string& variant, const EvalRecord& e) override;
  void finish(int stop_signal, int64_t runs_written) override;

 private:
  void table_header();
  const BenchOptions& o_;
  bool table_started_ = false;
};

class Hdf5Reporter final : public BenchReporter {
 public:
  // Creates `<out>.partial` (ResultsFile) and writes the model's root attributes.
  Hdf5Reporter(const BenchOptions& o, const ModelConfig& cfg, const std::string& weights_description);
  ResultsFile& file() { return file_; }
  void roofline(const Roofline& r) override;
  void cell(const std::vector<RunRecord>& runs) override;
  void step_calibration(const Cell& cell, const StepCalibration& c) override;
  void finish(int stop_signal, int64_t runs_written) override;

 private:
  ResultsFile file_;
  DType weights_;
  int64_t step_calibrations_ = 0;  // /roofline/step/c0000, c0001, ... in cell order
};

}  // namespace lb
