#include "gemm.hpp"

#include <cblas.h>

#include <cassert>

namespace lb {

void gemm_xwt(const Mat& x, const Mat& w, const Mat& y) {
  assert(x.extent(1) == w.extent(1) && y.extent(0) == x.extent(0) && y.extent(1) == w.extent(0));
  // Kernels writing x may still be in flight on a threaded backend; BLAS reads host memory now.
  ExecSpace().fence();
  const int T = int(x.extent(0)), k = int(x.extent(1)), n = int(w.extent(0));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f,
              y.data(), n);
}

std::string blas_version() { return std::string("OpenBLAS ") + openblas_get_config(); }

}  // namespace lb
