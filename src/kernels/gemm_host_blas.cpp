// The CPU build's GEMM (kernels/gemm.hpp): GEMMs of up to kSkinnyMaxRows token rows (decode steps)
// on the skinny kernel, which streams every weight once (kernels/gemm_skinny.cpp), larger ones
// (prefill) on OpenBLAS' sgemm. 16-bit weights stay 16-bit in memory: the skinny kernel widens
// them in registers; a prefill widens a block of weight rows at a time for sgemm.
#include "kernels/gemm.hpp"

#include "core/host_threads.hpp"
#include "kernels/cpu_isa.hpp"
#include "kernels/gemm_skinny.hpp"
#include "kernels/half.hpp"
#include "kernels/widen16.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <vector>

namespace lb {

namespace {

// Weight rows a 16-bit prefill GEMM widens per sgemm call: 4 MiB of fp32 (cache-resident while
// sgemm reads it), calls few enough that sgemm's packing of x for each costs little.
constexpr int64_t kWidenedBytes = int64_t(4) << 20;

}  // namespace

void gemm_xwt(const Mat& x, const Weight& w, const StridedMat& y) {
  const bool f32 = w.type == DType::F32;
  assert(x.extent(1) == size_t(w.cols()) && y.extent(0) == x.extent(0) && int64_t(y.extent(1)) == w.rows());
  assert(y.extent(1) <= 1 || y.stride(1) == 1);
  const int T = int(x.extent(0)), k = int(x.extent(1)), n = int(w.rows());
  // Row strides (a row block of a fused weight, a column block of a fused output).
  const int64_t ldw = n > 1 ? int64_t(f32 ? w.f32.stride(0) : w.bits16.stride(0)) : k, ldy = T > 1 ? int64_t(y.stride(0)) : n;
  // Kernels writing x may still be in flight on a threaded backend; the host reads memory now.
  ExecSpace().fence();
  if (T <= kSkinnyMaxRows) {  // a decode step: stream the weights once
    // One contiguous range of output columns per compute thread of the rank (core/cpu_layout: the
    // OpenMP thread count is set before Kokkos starts), cut at the kernel's tiles. OpenMP rather
    // than a Kokkos host range: Debian's Kokkos has only Serial, and a rank given two cores must read
    // the weights with both (one core reads ~15 GB/s on a Xeon, two ~29). One call per thread, not
    // per small block: each call copies x to its padded pitch first.
#pragma omp parallel
    {
      const int64_t tiles = (n + kSkinnyColumnTile - 1) / kSkinnyColumnTile, threads = omp_get_num_threads(),
                    me = omp_get_thread_num();
      const int64_t j0 = std::min<int64_t>(n, tiles * me / threads * kSkinnyColumnTile),
                    j1 = std::min<int64_t>(n, tiles * (me + 1) / threads * kSkinnyColumnTile);
      if (j0 < j1 && f32) gemm_xwt_skinny(T, j0, j1, k, x.data(), k, w.f32.data(), ldw, y.data(), ldy);
      if (j0 < j1 && !f32) gemm_xwt_skinny(w.type, T, j0, j1, k, x.data(), k, w.bits16.data(), ldw, y.data(), ldy);
    }
    return;
  }
  if (f32) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, k, 1.0f, x.data(), k, w.f32.data(), int(ldw), 0.0f,
                y.data(), int(ldy));
    return;
  }
  const int64_t rows = std::max<int64_t>(1, kWidenedBytes / (int64_t(sizeof(float)) * k));
  thread_local std::vector<float> widened;
  widened.resize(size_t(std::min<int64_t>(rows, n) * k));
  for (int64_t j0 = 0; j0 < n; j0 += rows) {
    const int64_t nb = std::min<int64_t>(rows, n - j0);
    for (int64_t r = 0; r < nb; ++r) widen_to_f32(w.type, w.bits16.data() + (j0 + r) * ldw, widened.data() + r * k, k);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, int(nb), k, 1.0f, x.data(), k, widened.data(), k, 0.0f,
                y.data() + j0, int(ldy));
  }
}

std::string gemm_compute_dtype(DType) { return "fp32"; }

void select_cpu_kernels() {
  const char* cap = std::getenv("LB_MAX_CPU_ISA");
  set_max_cpu_isa(cap ? cap : "");
}

std::string cpu_kernel_target() { return cpu_isa_of(gemm_skinny_target()); }

Weight make_weight(const std::string& label, const HostMat& host, DType t) {
  Weight w;
  w.type = t;
  if (t == DType::F32) {
    w.f32 = Mat(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), host.extent(0), host.extent(1));
    Kokkos::deep_copy(w.f32, host);
    return w;
  }
  w.bits16 = decltype(w.bits16)(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), host.extent(0), host.extent(1));
  const float* in = host.data();
  uint16_t* out = w.bits16.data();  // host memory in the CPU build
  host_parallel_ranges(int64_t(host.size()), int64_t(1) << 20, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = t == DType::BF16 ? to_bf16(in[i]) : to_f16(in[i]);
  });
  return w;
}

std::string blas_version() {
  std::string v = openblas_get_config();  // "OpenBLAS 0.3.21 ... <kernels> ..."
  if (const char* picked = std::getenv("LADDERBENCH_OPENBLAS_RESTARTED"))  // kernels/openblas_kernels.cpp
    v += std::string(" (OPENBLAS_CORETYPE set by ladderbench: the library had picked ") + picked + ")";
  return v;
}

void set_blas_threads(int n) { openblas_set_num_threads(n); }

int blas_threads() { return openblas_get_num_threads(); }

}  // namespace lb
