// The records of one cell (batch, prompt length, generated length) of ladder-bench, built once from the measured samples: identity,
// summary statistics, and the achieved rates against the plan and the roofline. The console and
// HDF5 reporters (report/bench_reporters.hpp) only format them.
#pragma once

#include "options/bench_options.hpp"
#include "measure/roofline.hpp"
#include "core/dtype.hpp"
#include "io/results_file.hpp"
#include "model/model_config.hpp"
#include "model/schedule.hpp"

#include <string>
#include <vector>

namespace lb {

struct CellContext {
  const BenchOptions& options;
  const ModelConfig& cfg;
  DType weights;
  Cell cell;
  int tp = 1;
  const std::vector<int32_t>& prompt;
  const Roofline* roofline = nullptr;  // with --roofline
};

// Completes `runs` (one per schedule, samples filled in by the measurement loop) and returns those
// that measured at least one repetition, in schedule order.
std::vector<RunRecord> build_run_records(std::vector<RunRecord> runs, const std::vector<Schedule>& schedules,
                                         const CellContext& ctx);

// A derived attribute of a record by name (e.g. "tokens_per_s_median"); NaN if absent.
double record_attr(const RunRecord& r, const std::string& name);

}  // namespace lb
