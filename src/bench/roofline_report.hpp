// The roofline's two reports: log lines and root attributes of the results file.
#pragma once

#include "bench/roofline.hpp"
#include "io/results_file.hpp"

#include <cstdio>

namespace lb {

// Root attributes roofline_stream_read_Bps, roofline_stream_copy_Bps, roofline_stream_triad_Bps, roofline_gemm_flops
// (per rank, all ranks concurrently), roofline_scope, roofline_gemm_dtype, roofline_timer, and the
// sizes they were measured at.
void store_roofline(ResultsFile& file, const Roofline& r);

// Two "# roofline ..." lines for a log header.
void print_roofline(std::FILE* out, const Roofline& r);

}  // namespace lb
