#include "report/bench_reporters.hpp"

#include "app/stop_signal.hpp"
#include "kernels/gemm.hpp"

#include <cstdio>

namespace lb {

Hdf5Reporter::Hdf5Reporter(const BenchOptions& o, const ModelConfig& cfg, const std::string& weights_description)
    : file_(o.out, o.overwrite), weights_(parse_dtype(o.dtype)) {
  file_.set_attr("model", cfg.name);
  file_.set_attr("model_config", cfg.raw.dump());
  file_.set_attr("weights", weights_description);
  file_.set_attr("weights_dtype", o.dtype);                       // as stored
  file_.set_attr("compute_dtype", gemm_compute_dtype(weights_));  // as multiplied
  file_.set_attr("seed", int64_t(o.seed));
  if (!o.prompt_ids.empty()) file_.set_attr("prompt_ids", o.prompt_ids);
}

void Hdf5Reporter::roofline(const Roofline& r) { store_roofline(file_, r); }

void Hdf5Reporter::cell(const std::vector<RunRecord>& runs) {
  for (const RunRecord& r : runs) file_.write_run(r);
}

void Hdf5Reporter::step_calibration(const Cell& cell, const StepCalibration& c) {
  char path[48];
  std::snprintf(path, sizeof path, "roofline/step/c%04lld", (long long)step_calibrations_++);
  store_step_calibration(file_, path, cell, c, weights_);
}

void Hdf5Reporter::finish(int stop_signal, int64_t) {
  if (!stop_signal) {
    file_.finalize();
    return;
  }
  // Keep the .partial name: the job did not finish. Every run written so far stays readable.
  file_.set_attr("interrupted", signal_name(stop_signal));
  file_.close_incomplete();
}

}  // namespace lb
