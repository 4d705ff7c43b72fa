#include "kernels/gemm.hpp"

#include "kernels/avx512.hpp"

#include <cblas.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <stdexcept>

namespace lb {

void gemm_xwt(const Mat& x, const Weight& w, const StridedMat& y) {
  if (w.type != DType::F32)
    throw std::logic_error(std::string("lb::gemm_xwt: the CPU build has no ") + dtype_name(w.type) + " GEMM");
  assert(x.extent(1) == w.f32.extent(1) && y.extent(0) == x.extent(0) && y.extent(1) == w.f32.extent(0));
  assert(y.extent(1) <= 1 || y.stride(1) == 1);
  const int T = int(x.extent(0)), k = int(x.extent(1)), n = int(w.f32.extent(0));
  // Row strides (a row block of a fused weight, a column block of a fused output).
  const int ldw = n > 1 ? int(w.f32.stride(0)) : k, ldy = T > 1 ? int(y.stride(0)) : n;
  // Kernels writing x may still be in flight on a threaded backend; BLAS reads host memory now.
  ExecSpace().fence();
#ifdef LADDERBENCH_HOST_AVX512
  if (T <= kSkinnyMaxRows && avx512_available()) {  // a decode step: stream the weights once
    // Blocks of output columns for the rank's compute threads (core/cpu_layout: the OpenMP thread
    // count is set before Kokkos starts). OpenMP rather than a Kokkos host range: Debian's Kokkos
    // has only Serial, and a rank given two cores must read the weights with both (one core reads
    // ~15 GB/s here, two ~29). 96 is a multiple of the kernel's 6-row tile, and n / 96 blocks keep
    // 16+ threads busy at d = 2048.
    constexpr int64_t kBlock = 96;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < blocks; ++b)
      gemm_xwt_skinny_avx512(T, b * kBlock, std::min<int64_t>(n, (b + 1) * kBlock), k, x.data(), k, w.f32.data(), ldw,
                             y.data(), ldy);
    return;
  }
#endif
  if (T == 1) {  // without the skinny kernel: sgemv streams the weights once, sgemm would pack them
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, w.f32.data(), ldw, x.data(), 1, 0.0f, y.data(), 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, k, 1.0f, x.data(), k, w.f32.data(), ldw, 0.0f, y.data(),
              ldy);
}

bool gemm_supports(DType t) { return t == DType::F32; }

Weight make_weight(const std::string& label, const HostMat& host, DType t) {
  if (!gemm_supports(t))
    throw std::logic_error(std::string("lb::make_weight: the CPU build stores no ") + dtype_name(t) + " weights");
  Weight w;
  w.f32 = Mat(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), host.extent(0), host.extent(1));
  Kokkos::deep_copy(w.f32, host);
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
