# The CPU build (LADDERBENCH_CUDA=OFF) never takes a Kokkos built with CUDA: its host BLAS cannot
# read device memory. Such a Kokkos is easily within reach: Kokkos_ROOT exported for the cuda preset
# (docs/gpu.md), `spack load kokkos` (CMAKE_PREFIX_PATH), or a Kokkos_DIR that an earlier configure
# cached from one of them. Every such installation is hidden from find_package here (with a note
# saying so), so that the search goes on to a host Kokkos; the cached Kokkos_DIR is dropped if it
# pointed at one.

# Whether the Kokkos package configuration in `dir` (a directory holding KokkosConfigCommon.cmake)
# was built with the CUDA backend.
function(lb_kokkos_config_has_cuda dir out)
  set(has OFF)
  if(EXISTS "${dir}/KokkosConfigCommon.cmake")
    file(STRINGS "${dir}/KokkosConfigCommon.cmake" devices REGEX "^set\\(Kokkos_DEVICES ")
    if(devices MATCHES "CUDA")
      set(has ON)
    endif()
  endif()
  set(${out} ${has} PARENT_SCOPE)
endfunction()

function(lb_hide_cuda_kokkos)
  set(prefixes ${Kokkos_ROOT} $ENV{Kokkos_ROOT} $ENV{KOKKOS_ROOT} ${CMAKE_PREFIX_PATH} $ENV{CMAKE_PREFIX_PATH})
  string(REPLACE ":" ";" prefixes "${prefixes}")
  set(dirs)
  if(Kokkos_DIR)
    list(APPEND dirs "${Kokkos_DIR}")
  endif()
  foreach(prefix IN LISTS prefixes)
    file(GLOB found "${prefix}/lib*/cmake/Kokkos" "${prefix}/share/cmake/Kokkos" "${prefix}/cmake")
    list(APPEND dirs ${found})
  endforeach()
  list(REMOVE_DUPLICATES dirs)
  set(ignore ${CMAKE_IGNORE_PATH})
  foreach(dir IN LISTS dirs)
    lb_kokkos_config_has_cuda("${dir}" has_cuda)
    if(has_cuda)
      message(STATUS "ladderbench: the CPU build ignores the Kokkos with CUDA in ${dir} "
                     "(for the cuda preset); looking for a host Kokkos")
      list(APPEND ignore "${dir}")
      if(Kokkos_DIR STREQUAL dir)
        unset(Kokkos_DIR CACHE)
      endif()
    endif()
  endforeach()
  set(CMAKE_IGNORE_PATH ${ignore} PARENT_SCOPE)
endfunction()

if(NOT LADDERBENCH_CUDA)
  lb_hide_cuda_kokkos()
endif()
