// A hook on forward's modules and kernels, so that timing (the --breakdown profile,
// measure/module_profile.hpp; the cell's calibration, measure/step_calibration.hpp) stays out of the
// schedule. Module indices are Schedule's: 2 * layer + (0 attention | 1 MLP). Every hook defaults
// to nothing.
#pragma once

#include <cstdint>

namespace lb {

// Every kernel forward launches, by what it computes (a GEMM by the weight it reads).
enum class Kernel {
  Embed, RmsNorm, Bias, Rope, AppendKv, Attention, SiluMul, AddInto, GatherLast,
  GemmQkv, GemmO, GemmGateUp, GemmDown, GemmFusedIn, GemmLmHead,
};
inline constexpr int kKernelKinds = int(Kernel::GemmLmHead) + 1;
// The kernel's function (the GEMMs: the projection), as results files name it.
inline const char* kernel_name(Kernel k) {
  static const char* const names[kKernelKinds] = {
      "embed_tokens", "rms_norm", "add_bias", "apply_rope", "append_kv", "causal_attention", "silu_mul", "add_into",
      "gather_last", "gemm_qkv", "gemm_o_proj", "gemm_gate_up", "gemm_down_proj", "gemm_fused_in", "gemm_lm_head"};
  return names[int(k)];
}

class ModuleObserver {
 public:
  virtual ~ModuleObserver() = default;
  // Around a module's own kernels (norm, projections, attention or MLP body).
  virtual void compute_begin(int64_t) {}
  virtual void compute_end(int64_t) {}
  // Around the wait for a module's all-reduce, just before its output is added to the stream.
  virtual void wait_begin(int64_t) {}
  virtual void wait_end(int64_t) {}
  // Around each kernel launch of forward (enqueued, not finished: an observer that times kernels
  // fences in kernel_end).
  virtual void kernel_begin(Kernel) {}
  virtual void kernel_end(Kernel) {}
};

}  // namespace lb
