// The roofline's two reports: log lines and root attributes of the results file.
#pragma once

#include "options/bench_options.hpp"
#include "measure/roofline.hpp"
#include "measure/step_calibration.hpp"
#include "io/results_file.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace lb {

// Root attributes roofline_stream_read_Bps, roofline_stream_copy_Bps, roofline_stream_triad_Bps, roofline_gemm_flops
// (per rank, all ranks concurrently), roofline_scope, roofline_gemm_dtype, roofline_timer, and the
// sizes they were measured at.
void store_roofline(ResultsFile& file, const Roofline& r);

// A cell's own calibration (StepCalibrator) as group `path`: the columns of /roofline/gemm, and as
// attributes the cell's batch and lengths, the rounds and the all-reduce hand-off.
void store_step_calibration(ResultsFile& file, const std::string& path, const Cell& cell, const StepCalibration& c,
                            DType weights);

// One "# step calibration ..." log line: each shape's median time per call, the hand-off.
void print_step_calibration(std::FILE* out, const Cell& cell, const StepCalibration& c);

// Two "# roofline ..." lines for a log header.
void print_roofline(std::FILE* out, const Roofline& r);

}  // namespace lb
