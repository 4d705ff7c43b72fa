# Finds every external library once; targets below are what the rest of the build links.

find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(Threads REQUIRED)

# Parallel HDF5 (libhdf5-openmpi-dev) is what setup installs; prefer it if a serial one exists too.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)

include(cmake/HostKokkos.cmake)  # the CPU build skips a Kokkos built with CUDA
find_package(Kokkos REQUIRED)
# Debian's Trilinos Kokkos 3.4 exports a wrong include dir (/usr/lib/include).
if(EXISTS /usr/include/trilinos/Kokkos_Core.hpp)
  get_target_property(_kokkos_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  if(_kokkos_inc MATCHES "/usr/lib/include")
    set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_INCLUDE_DIRECTORIES /usr/include/trilinos)
  endif()
endif()
message(STATUS "ladderbench: Kokkos ${Kokkos_VERSION}")

find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)

if(NOT LADDERBENCH_CUDA)
  # Host GEMMs go to OpenBLAS through its CBLAS interface; the decode GEMM's column blocks run on
  # the rank's compute threads with OpenMP (kernels/gemm_host_blas.cpp says why not Kokkos).
  find_library(OPENBLAS_LIBRARY NAMES openblas REQUIRED)
  find_path(CBLAS_INCLUDE_DIR NAMES cblas.h PATH_SUFFIXES x86_64-linux-gnu/openblas-pthread openblas REQUIRED)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  add_library(ladderbench_blas INTERFACE)
  target_link_libraries(ladderbench_blas INTERFACE ${OPENBLAS_LIBRARY} OpenMP::OpenMP_CXX)
  target_include_directories(ladderbench_blas INTERFACE ${CBLAS_INCLUDE_DIR})
  # Highway (libhwy-dev): portable SIMD with run-time dispatch for the host's own kernels
  # (kernels/gemm_skinny.cpp, kernels/cpu_isa.hpp).
  find_package(hwy REQUIRED)
endif()

if(LADDERBENCH_TESTS)
  find_package(GTest REQUIRED)
endif()
