# CUDA pieces of the build (docs/gpu.md).
#
# LADDERBENCH_CUDA_WRAPPERS (default: ON when a CUDA compiler is found): builds the static library
#   ladderbench_cuda_wrappers (src/core/cuda, src/kernels/cuda, src/comm/cuda: device selection, cuBLAS GEMM, NCCL communicator,
#   emulated-link delay kernel, stream/event/graph helpers) and its tests (tests/cuda/), in any
#   build, the CPU one included. They need no CUDA-enabled Kokkos; the tests skip without a GPU.
#   The CPU app does not link them.
# LADDERBENCH_CUDA (preset `cuda`): the GPU build: Kokkos with CUDA as default execution space,
#   GEMMs through cuBLAS (src/kernels/cuda/gemm_cublas.cpp instead of src/kernels/gemm_host_blas.cpp), NCCL.
#
# Both need the CUDA toolkit with cuBLAS and NCCL (NCCL has no CMake package: found by path, in
# the toolkit, NCCL_ROOT / NCCL_HOME, or the usual system directories).

if(Kokkos_ENABLE_CUDA AND NOT LADDERBENCH_CUDA)
  message(FATAL_ERROR "ladderbench: the Kokkos found (${Kokkos_DIR}) runs on CUDA, but LADDERBENCH_CUDA is OFF: "
                      "the CPU build's host BLAS cannot read device memory. Use the cuda preset "
                      "(cmake --preset cuda -DKokkos_ROOT=...), or point Kokkos_ROOT at a host Kokkos.")
endif()

include(CheckLanguage)
check_language(CUDA)
if(CMAKE_CUDA_COMPILER)
  set(_lb_cuda_default ON)
else()
  set(_lb_cuda_default OFF)
endif()
option(LADDERBENCH_CUDA_WRAPPERS "Build the CUDA wrappers library and its tests (needs nvcc, cuBLAS, NCCL; no GPU)"
       ${_lb_cuda_default})
if(LADDERBENCH_CUDA AND NOT LADDERBENCH_CUDA_WRAPPERS)
  message(STATUS "ladderbench: LADDERBENCH_CUDA=ON needs the CUDA wrappers; enabling LADDERBENCH_CUDA_WRAPPERS")
  set(LADDERBENCH_CUDA_WRAPPERS ON CACHE BOOL "" FORCE)
endif()

if(NOT LADDERBENCH_CUDA_WRAPPERS)
  message(STATUS "ladderbench: CUDA wrappers off (no CUDA compiler found, or LADDERBENCH_CUDA_WRAPPERS=OFF)")
  return()
endif()
if(NOT CMAKE_CUDA_COMPILER)
  message(FATAL_ERROR "ladderbench: LADDERBENCH_CUDA_WRAPPERS/LADDERBENCH_CUDA need a CUDA compiler (nvcc); "
                      "put it on PATH or set CMAKE_CUDA_COMPILER / CUDACXX")
endif()

# The CUDA Kokkos' architecture if there is one (Kokkos >= 4.3 exports Kokkos_CUDA_ARCHITECTURES;
# older ones only name it in Kokkos_ARCH, e.g. AMPERE80), so that the .cu files run on the GPU the
# Kokkos kernels were built for; else Hopper (H100/H200). nvcc 13 no longer targets below sm_75.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(_lb_kokkos_cuda_arch ${Kokkos_CUDA_ARCHITECTURES})
  if(Kokkos_ENABLE_CUDA AND NOT _lb_kokkos_cuda_arch)
    foreach(_lb_arch IN LISTS Kokkos_ARCH)
      if(_lb_arch MATCHES "^(MAXWELL|PASCAL|VOLTA|TURING|AMPERE|ADA|HOPPER|BLACKWELL)([0-9]+)$")
        set(_lb_kokkos_cuda_arch ${CMAKE_MATCH_2})
      endif()
    endforeach()
  endif()
  if(Kokkos_ENABLE_CUDA AND _lb_kokkos_cuda_arch)
    set(CMAKE_CUDA_ARCHITECTURES ${_lb_kokkos_cuda_arch})
  else()
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
endif()
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
# One shared libcudart for everything (it loads libcuda lazily, so binaries that link only it start on
# a machine without a driver); cuBLAS and NCCL are shared libraries as well.
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

find_path(NCCL_INCLUDE_DIR NAMES nccl.h
  HINTS ${NCCL_ROOT} $ENV{NCCL_ROOT} $ENV{NCCL_HOME} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_INCLUDE_DIRS}
  PATH_SUFFIXES include)
find_library(NCCL_LIBRARY NAMES nccl
  HINTS ${NCCL_ROOT} $ENV{NCCL_ROOT} $ENV{NCCL_HOME} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_LIBRARY_DIR}
  PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
if(NOT NCCL_INCLUDE_DIR OR NOT NCCL_LIBRARY)
  message(FATAL_ERROR "ladderbench: NCCL not found (nccl.h: ${NCCL_INCLUDE_DIR}, libnccl: ${NCCL_LIBRARY}); "
                      "set NCCL_ROOT, or -DLADDERBENCH_CUDA_WRAPPERS=OFF")
endif()
add_library(ladderbench_nccl INTERFACE)
target_include_directories(ladderbench_nccl INTERFACE ${NCCL_INCLUDE_DIR})
target_link_libraries(ladderbench_nccl INTERFACE ${NCCL_LIBRARY})
message(STATUS "ladderbench: CUDA ${CUDAToolkit_VERSION} (${CMAKE_CUDA_COMPILER}), archs ${CMAKE_CUDA_ARCHITECTURES}, "
               "NCCL ${NCCL_LIBRARY}")

if(LADDERBENCH_CUDA)
  # What src/ links as its BLAS in the GPU build (the CPU build's is OpenBLAS, Dependencies.cmake).
  add_library(ladderbench_blas INTERFACE)
  target_link_libraries(ladderbench_blas INTERFACE CUDA::cublas CUDA::cudart)
  if(NOT Kokkos_ENABLE_CUDA)
    message(FATAL_ERROR "ladderbench: LADDERBENCH_CUDA=ON needs a Kokkos built with CUDA (Kokkos_ENABLE_CUDA); "
                        "the one found (${Kokkos_DIR}, ${Kokkos_VERSION}) is not. See docs/gpu.md.")
  endif()
endif()
