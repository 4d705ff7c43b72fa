// gemm.hpp for the LADDERBENCH_CUDA build (CMake compiles this instead of gemm_cblas.cpp): the same
// y = x @ w^T, through cuBLAS on the stream of Kokkos' default Cuda instance, so it is ordered with
// the Kokkos kernels around it without any fence (and can be captured into a CUDA graph). Weights
// may be stored in bf16/fp16: the activations are then cast to that type on the same stream and
// cuBLAS writes the fp32 accumulators.
#include "kernels/gemm.hpp"

#include "kernels/cuda/convert.hpp"
#include "kernels/cuda/cublas_handle.hpp"
#include "kernels/half.hpp"
#include "core/host_threads.hpp"

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

// One handle per process, created on first use on the current device, and the buffer of the
// activations' 16-bit copy (grown to the largest GEMM input seen: the prefill's, before any decode
// step is captured, so a captured step never allocates). Destroyed when Kokkos finalizes, while
// the CUDA context is still alive (unlike at static destruction).
struct CublasState {
  cuda::CublasHandle handle;
  Kokkos::View<uint16_t*, MemSpace> cast;
};

CublasState& state() {
  static std::unique_ptr<CublasState> s;
  if (!s) {
    s = std::make_unique<CublasState>();
    Kokkos::push_finalize_hook([] { s.reset(); });
  }
  return *s;
}

template <class Y>
void check_shapes(const Mat& x, int64_t n, int64_t k, const Y& y) {
  if (int64_t(x.extent(1)) != k || y.extent(0) != x.extent(0) || int64_t(y.extent(1)) != n)
    throw std::invalid_argument("lb::gemm_xwt: shapes do not match: x [" + std::to_string(x.extent(0)) + ", " +
                                std::to_string(x.extent(1)) + "], w [" + std::to_string(n) + ", " +
                                std::to_string(k) + "], y [" + std::to_string(y.extent(0)) + ", " +
                                std::to_string(y.extent(1)) + "]");
}

// Row strides (the second extent unless the view is padded or a block of a wider matrix).
template <class M>
int64_t row_stride(const M& m) {
  if (m.extent(1) > 1 && m.stride(1) != 1) throw std::invalid_argument("lb::gemm_xwt: columns must be contiguous");
  return m.extent(0) > 1 ? int64_t(m.stride(0)) : int64_t(m.extent(1));
}

}  // namespace

void gemm_xwt(const Mat& x, const Weight& w, const StridedMat& y) {
  check_shapes(x, w.rows(), w.cols(), y);
  const int64_t T = int64_t(x.extent(0)), k = int64_t(x.extent(1)), n = w.rows();
  if (w.type == DType::F32) {
    cuda::gemm_xwt(state().handle, ExecSpace().cuda_stream(), DType::F32, T, n, k, x.data(), row_stride(x),
                   w.f32.data(), row_stride(w.f32), y.data(), row_stride(y));
    return;
  }
  if (!x.span_is_contiguous()) throw std::invalid_argument("lb::gemm_xwt: a 16-bit weight needs a contiguous x");
  CublasState& s = state();
  const cudaStream_t stream = ExecSpace().cuda_stream();
  if (s.cast.extent(0) < x.size()) s.cast = Kokkos::View<uint16_t*, MemSpace>("gemm_cast", x.size());
  cuda::enqueue_cast(stream, x.data(), w.type, s.cast.data(), x.size());
  cuda::gemm_xwt(s.handle, stream, w.type, DType::F32, T, n, k, s.cast.data(), k, w.bits16.data(),
                 row_stride(w.bits16), y.data(), row_stride(y));
}

Weight make_weight(const std::string& label, const HostMat& host, DType t) {
  Weight w;
  w.type = t;
  if (t == DType::F32) {
    w.f32 = Mat(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), host.extent(0), host.extent(1));
    Kokkos::deep_copy(w.f32, host);
    return w;
  }
  w.bits16 = decltype(w.bits16)(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), host.extent(0), host.extent(1));
  auto staged = Kokkos::create_mirror_view(w.bits16);
  const float* in = host.data();
  uint16_t* out = staged.data();
  host_parallel_ranges(int64_t(host.size()), int64_t(1) << 20, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = t == DType::BF16 ? to_bf16(in[i]) : to_f16(in[i]);
  });
  Kokkos::deep_copy(w.bits16, staged);
  return w;
}

std::string blas_version() { return cuda::cublas_version(); }

std::string gemm_compute_dtype(DType t) {
  return t == DType::F32 ? "fp32" : std::string(dtype_name(t)) + " inputs, fp32 accumulation";
}

void select_cpu_kernels() {}  // the GEMMs run on the GPU

std::string cpu_kernel_target() { return ""; }

void set_blas_threads(int) {}  // GEMMs run on the GPU

void restart_for_blas_kernels(char**) {}

std::string openblas_kernel_choice() { return ""; }

int blas_threads() { return 0; }

}  // namespace lb
