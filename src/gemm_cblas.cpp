#include "gemm.hpp"

#include <cblas.h>

#include <cassert>
#include <stdexcept>

namespace lb {

void gemm_xwt(const Mat& x, const Mat& w, const Mat& y) {
  assert(x.extent(1) == w.extent(1) && y.extent(0) == x.extent(0) && y.extent(1) == w.extent(0));
  // Kernels writing x may still be in flight on a threaded backend; BLAS reads host memory now.
  ExecSpace().fence();
  const int T = int(x.extent(0)), k = int(x.extent(1)), n = int(w.extent(0));
  if (T == 1) {  // a decode step at batch 1: stream the weights once, without sgemm's packing copy
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, w.data(), k, x.data(), 1, 0.0f, y.data(), 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f,
              y.data(), n);
}

void gemm_xwt(const Mat& x, const Weight& w, const Mat& y) {
  if (w.type != WeightType::F32)
    throw std::logic_error(std::string("lb::gemm_xwt: the CPU build has no ") + weight_type_name(w.type) + " GEMM");
  gemm_xwt(x, w.f32, y);
}

bool gemm_supports(WeightType t) { return t == WeightType::F32; }

Weight make_weight(const std::string& label, const HostMat& host, WeightType t) {
  if (!gemm_supports(t))
    throw std::logic_error(std::string("lb::make_weight: the CPU build stores no ") + weight_type_name(t) + " weights");
  Weight w;
  w.f32 = Mat(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), host.extent(0), host.extent(1));
  Kokkos::deep_copy(w.f32, host);
  return w;
}

std::string blas_version() { return std::string("OpenBLAS ") + openblas_get_config(); }

}  // namespace lb
