// The cap is Highway's own mechanism (hwy::DisableTargets), so HWY_DYNAMIC_DISPATCH in every
// kernel file honours it without a dispatcher of ours; tests pin a target the way Highway's own
// tests do (hwy::SetSupportedTargetsForTest).
#include "kernels/cpu_isa.hpp"

#include "core/errors.hpp"

#include <hwy/highway.h>
#include <hwy/targets.h>

namespace lb {

const std::vector<CpuIsa>& cpu_isas() {
  static const std::vector<CpuIsa> isas = {
      {"scalar", HWY_SCALAR | HWY_EMU128},
#if HWY_ARCH_X86
      {"sse4", HWY_SSSE3 | HWY_SSE4},
      {"avx2", HWY_AVX2},
      {"avx512", HWY_AVX3 | HWY_AVX3_DL},
#elif HWY_ARCH_ARM
      {"neon", HWY_NEON},
      {"sve", HWY_SVE | HWY_SVE_256},
      {"sve2", HWY_SVE2 | HWY_SVE2_128},
#endif
  };
  return isas;
}

void set_max_cpu_isa(const std::string& name) {
  const std::vector<CpuIsa>& isas = cpu_isas();
  if (name.empty() || name == isas.back().name) {  // the top: nothing above it to rule out
    hwy::DisableTargets(0);
    return;
  }
  int64_t allowed = 0;
  for (const CpuIsa& isa : isas) {
    allowed |= isa.targets;
    if (name == isa.name) {
      // Everything else, so that a target newer than this list is ruled out too.
      hwy::DisableTargets(~allowed);
      return;
    }
  }
  std::string names;
  for (const CpuIsa& isa : isas) names += std::string(names.empty() ? "" : ", ") + isa.name;
  throw UserError("LB_MAX_CPU_ISA=" + name + ": not an instruction set this build knows; one of " + names +
                  " (or unset: the best this CPU has)");
}

std::string cpu_isa_of(int64_t target) {
  const std::string highway = std::string("Highway ") + hwy::TargetName(target);
  for (const CpuIsa& isa : cpu_isas())
    if (isa.targets & target) return std::string(isa.name) + " (" + highway + ")";
  return highway;
}

std::vector<int64_t> runnable_cpu_targets() { return hwy::SupportedAndGeneratedTargets(); }

void force_cpu_target(int64_t target) {
  hwy::DisableTargets(0);
  hwy::SetSupportedTargetsForTest(target);
}

}  // namespace lb
