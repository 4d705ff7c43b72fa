#include "gemm.hpp"

#include <cblas.h>

#include <cassert>
#include <stdexcept>

namespace lb {

namespace {

// y[T, n] (row stride ldy) = x[T, k] w[n, k]^T (row stride ldw), host memory.
void sgemm_xwt(int T, int n, int k, const float* x, const float* w, int ldw, float* y, int ldy) {
  // Kernels writing x may still be in flight on a threaded backend; BLAS reads host memory now.
  ExecSpace().fence();
  if (T == 1) {  // a decode step at batch 1: stream the weights once, without sgemm's packing copy
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, w, ldw, x, 1, 0.0f, y, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, k, 1.0f, x, k, w, ldw, 0.0f, y, ldy);
}

}  // namespace

void gemm_xwt(const Mat& x, const Mat& w, const Mat& y) {
  assert(x.extent(1) == w.extent(1) && y.extent(0) == x.extent(0) && y.extent(1) == w.extent(0));
  const int k = int(x.extent(1)), n = int(w.extent(0));
  sgemm_xwt(int(x.extent(0)), n, k, x.data(), w.data(), k, y.data(), n);
}

void gemm_xwt(const Mat& x, const Weight& w, const StridedMat& y) {
  if (w.type != WeightType::F32)
    throw std::logic_error(std::string("lb::gemm_xwt: the CPU build has no ") + weight_type_name(w.type) + " GEMM");
  assert(x.extent(1) == w.f32.extent(1) && y.extent(0) == x.extent(0) && y.extent(1) == w.f32.extent(0));
  assert(y.extent(1) <= 1 || y.stride(1) == 1);
  const int T = int(x.extent(0)), k = int(x.extent(1)), n = int(w.f32.extent(0));
  // Row strides (a row block of a fused weight, a column block of a fused output).
  sgemm_xwt(T, n, k, x.data(), w.f32.data(), n > 1 ? int(w.f32.stride(0)) : k, y.data(), T > 1 ? int(y.stride(0)) : n);
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
