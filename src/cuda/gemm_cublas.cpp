// gemm.hpp for the LADDERBENCH_CUDA build (CMake compiles this instead of gemm_cblas.cpp): the same
// y = x @ w^T, through cuBLAS on the stream of Kokkos' default Cuda instance, so it is ordered with
// the Kokkos kernels around it without any fence (and can be captured into a CUDA graph).
#include "gemm.hpp"

#include "cuda/cublas_gemm.hpp"

#include <Kokkos_Core.hpp>

#include <memory>
#include <stdexcept>
#include <type_traits>

#if !defined(KOKKOS_ENABLE_CUDA)
#error "gemm_cublas.cpp is for a Kokkos built with CUDA (LADDERBENCH_CUDA=ON)"
#endif

namespace lb {
namespace {

static_assert(std::is_same_v<ExecSpace, Kokkos::Cuda>, "the CUDA build expects Kokkos::Cuda as default execution space");
static_assert(std::is_same_v<real, float>, "gemm_cublas.cpp maps lb::real to CUDA_R_32F");

// One handle per process, created on first use on the current device, destroyed when Kokkos
// finalizes (while the CUDA context is still alive, unlike at static destruction).
cuda::CublasHandle& handle() {
  static std::unique_ptr<cuda::CublasHandle> h;
  if (!h) {
    h = std::make_unique<cuda::CublasHandle>();
    Kokkos::push_finalize_hook([] { h.reset(); });
  }
  return *h;
}

}  // namespace

void gemm_xwt(const Mat& x, const Mat& w, const Mat& y) {
  if (x.extent(1) != w.extent(1) || y.extent(0) != x.extent(0) || y.extent(1) != w.extent(0))
    throw std::invalid_argument("lb::gemm_xwt: shapes do not match: x [" + std::to_string(x.extent(0)) + ", " +
                                std::to_string(x.extent(1)) + "], w [" + std::to_string(w.extent(0)) + ", " +
                                std::to_string(w.extent(1)) + "], y [" + std::to_string(y.extent(0)) + ", " +
                                std::to_string(y.extent(1)) + "]");
  const int64_t T = int64_t(x.extent(0)), k = int64_t(x.extent(1)), n = int64_t(w.extent(0));
  // Row strides (LayoutRight: the second extent unless the view is padded or a subview).
  const int64_t ldx = T > 1 ? int64_t(x.stride(0)) : k, ldw = n > 1 ? int64_t(w.stride(0)) : k,
                ldy = T > 1 ? int64_t(y.stride(0)) : n;
  cuda::gemm_xwt(handle(), ExecSpace().cuda_stream(), cuda::DType::F32, T, n, k, x.data(), ldx, w.data(), ldw,
                 y.data(), ldy);
}

std::string blas_version() { return cuda::cublas_version(); }

}  // namespace lb
