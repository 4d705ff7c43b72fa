// y = x @ w^T for row-major x [T, k], w [n, k] (Hugging Face weight layout: [out, in]), y [T, n].
// The one GEMM shape of the model: every projection is this call, on CPU through the skinny kernel
// and CBLAS (kernels/gemm_host_blas.cpp), on GPU through cuBLAS (kernels/cuda/gemm_cublas.cpp);
// each backend also owns how weights are stored (fp32, bf16 or fp16 in both).
#pragma once

#include "core/types.hpp"
#include "core/dtype.hpp"

#include <string>
#include <utility>

namespace lb {

// One projection's weight [n, k] in the Hugging Face [out, in] layout, in one of the two views.
struct Weight {
  DType type = DType::F32;
  Mat f32;                                                          // type F32
  Kokkos::View<uint16_t**, Kokkos::LayoutRight, MemSpace> bits16;  // bf16 / fp16 bit patterns

  int64_t rows() const { return int64_t(type == DType::F32 ? f32.extent(0) : bits16.extent(0)); }
  int64_t cols() const { return int64_t(type == DType::F32 ? f32.extent(1) : bits16.extent(1)); }
};

// Rows [r0, r1) of `w` (a view: no copy), e.g. the attention or MLP block of a fused projection.
inline Weight weight_rows(const Weight& w, int64_t r0, int64_t r1) {
  Weight v;
  v.type = w.type;
  const auto rows = std::make_pair(r0, r1);
  if (w.type == DType::F32)
    v.f32 = Kokkos::subview(w.f32, rows, Kokkos::ALL);
  else
    v.bits16 = Kokkos::subview(w.bits16, rows, Kokkos::ALL);
  return v;
}

// An output that may be a column block of a wider matrix (row stride > columns; columns contiguous).
using StridedMat = Kokkos::View<real**, Kokkos::LayoutStride, MemSpace>;

// Host staging of a weight before it is stored (make_weight).
using HostMat = Kokkos::View<float**, Kokkos::LayoutRight, Kokkos::HostSpace>;

// The model's projections: x and y fp32, w as stored, accumulation fp32. bf16/fp16 weights: on the
// GPU x is cast to the weight's type first (cuBLAS multiplies 16-bit inputs); on the CPU the
// weights are widened to fp32 (exactly) and x stays fp32. y may be a column block of a wider
// matrix (a Mat converts). Each backend (host BLAS, cuBLAS) defines this one.
void gemm_xwt(const Mat& x, const Weight& w, const StridedMat& y);
// Fp32 weights held as a plain matrix (tests, the roofline): the Weight path's F32 case.
inline void gemm_xwt(const Mat& x, const Mat& w, const Mat& y) {
  Weight fp32;
  fp32.f32 = w;
  gemm_xwt(x, fp32, y);
}

// Stores host fp32 values [n, k] as a weight of type `t` (rounded to nearest even), on the device.
Weight make_weight(const std::string& label, const HostMat& host, DType t);

// What the GEMMs compute in with weights stored as `t`, for the results' provenance: "fp32" on the
// CPU (16-bit weights widened exactly), "bf16 inputs, fp32 accumulation" (or fp16) on the GPU.
std::string gemm_compute_dtype(DType t);

// Name and version of the BLAS the binary uses, for the results' provenance.
std::string blas_version();

// The CPU build's own SIMD kernels (the decode GEMM, the STREAM read): select_cpu_kernels applies
// the user's cap LB_MAX_CPU_ISA (kernels/cpu_isa.hpp; an unknown value is a UserError), and
// cpu_kernel_target names the instruction set they run, e.g. "avx512 (Highway AVX3)". The GPU
// build has none: nothing to select, "".
void select_cpu_kernels();
std::string cpu_kernel_target();

// Makes the host BLAS run kernels for this CPU: if OpenBLAS fell back to older kernels than the CPU
// has (it did not know the CPU) and the job did not set OPENBLAS_CORETYPE, restarts the program
// (execv, same process) with OPENBLAS_CORETYPE set. Call first thing in main, before MPI starts.
// The GPU build: nothing. openblas_kernel_choice(): the core type it would set ("" for none).
void restart_for_blas_kernels(char** argv);
std::string openblas_kernel_choice();

// Threads of the host BLAS (prefill GEMMs on CPU); the GPU build has none (set is a no-op, get 0).
void set_blas_threads(int n);
int blas_threads();

}  // namespace lb
