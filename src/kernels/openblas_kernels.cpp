// OpenBLAS picks its kernels for the CPU when the library loads (DYNAMIC_ARCH). A release that does
// not know the CPU falls back to its generic x86-64 kernels: Debian 12's OpenBLAS 0.3.21 takes this
// project's CI machine (a recent Xeon with AVX-512) for a "Prescott" (SSE3) and runs the prefill
// GEMMs at 30 GFLOP/s per core instead of 135 GFLOP/s with its SkylakeX kernels (measured here;
// docs/measurement.md). The choice can only be forced by OPENBLAS_CORETYPE before the library loads,
// so the app restarts itself with it, once, before MPI starts (the same process: the launcher keeps
// tracking it). A job that sets OPENBLAS_CORETYPE itself is left as it is.
#include "kernels/gemm.hpp"

#include <unistd.h>

#include <cblas.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" char* openblas_get_corename(void);

namespace lb {
namespace {

constexpr const char* kRestarted = "LADDERBENCH_OPENBLAS_RESTARTED";

bool has_avx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

bool has_avx2() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// OpenBLAS core names with kernels of at least that width (0.3.21's x86-64 list).
bool named_in(const std::string& core, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (core == n) return true;
  return false;
}

}  // namespace

std::string openblas_kernel_choice() {
  const std::string core = openblas_get_corename();
  if (has_avx512() && !named_in(core, {"SkylakeX", "Cooperlake", "SapphireRapids"})) return "SkylakeX";
  if (has_avx2() && !has_avx512() &&
      !named_in(core, {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"}))
    return "Haswell";
  return "";
}

void restart_for_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv(kRestarted)) return;
  const std::string choice = openblas_kernel_choice();
  if (choice.empty()) return;
  setenv("OPENBLAS_CORETYPE", choice.c_str(), 1);
  setenv(kRestarted, openblas_get_corename(), 1);  // what it had picked, for the log
  // The binary's own path, not /proc/self/exe: exec names the process after the file it runs,
  // and tools find the ranks by name (pgrep -x ladder-bench).
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len > 0) {
    self[len] = '\0';
    execv(self, argv);
  }
  // Not restarted (no /proc): go on with the generic kernels; the provenance names them.
  std::fprintf(stderr, "%s: warning: OpenBLAS runs its %s kernels on this CPU; set OPENBLAS_CORETYPE=%s\n", argv[0],
               std::getenv(kRestarted), choice.c_str());
  unsetenv(kRestarted);
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace lb
