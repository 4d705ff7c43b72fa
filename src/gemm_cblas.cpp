#include "gemm.hpp"

#include <cblas.h>

#include <cassert>

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

std::string blas_version() { return std::string("OpenBLAS ") + openblas_get_config(); }

}  // namespace lb
