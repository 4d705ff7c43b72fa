// The roofline's read kernel on the CPU (measure/roofline.cpp: roofline_stream_read_Bps), the
// ceiling the decode GEMM (kernels/gemm_skinny.hpp) is measured against. CPU build only.
#pragma once

#include <cstdint>

namespace lb {

// The sum of p[0..n), accumulated in double; read with full-width vector loads of the same target
// as the decode GEMM (kernels/cpu_isa.hpp).
double stream_sum(const float* p, int64_t n);

}  // namespace lb
