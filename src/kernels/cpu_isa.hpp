// Which instruction set the CPU build's own SIMD kernels (kernels/gemm_skinny.hpp,
// kernels/stream_sum.hpp) run. Each is compiled by Highway for every target of the architecture;
// a call runs the best one this CPU has, unless the user caps it with LB_MAX_CPU_ISA (as oneDNN's
// ONEDNN_MAX_CPU_ISA does): to measure what an older CPU would get, or to rule a target out. The
// cap covers this project's kernels only; OpenBLAS has its own (OPENBLAS_CORETYPE). CPU build only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// One value of LB_MAX_CPU_ISA and the Highway targets (HWY_AVX2, ...) it stands for.
struct CpuIsa {
  const char* name;  // "scalar", "sse4", "avx2", "avx512"; on Arm "scalar", "neon", "sve", "sve2"
  int64_t targets;
};

// This architecture's values, lowest first.
const std::vector<CpuIsa>& cpu_isas();

// Caps the kernels at `name`, one of cpu_isas() ("" = no cap: the best the CPU has); any other
// value is a UserError naming LB_MAX_CPU_ISA and the allowed values. Call before the kernels run
// on other threads.
void set_max_cpu_isa(const std::string& name);

// "avx512 (Highway AVX3)": the cpu_isas() value covering Highway target `target` and Highway's name.
std::string cpu_isa_of(int64_t target);

// The Highway targets compiled into the kernels that this CPU runs, best first (tests run each).
std::vector<int64_t> runnable_cpu_targets();
// Tests: the kernels run on `target` (one of runnable_cpu_targets()) alone; 0 undoes it.
void force_cpu_target(int64_t target);

}  // namespace lb
