#!/usr/bin/env bash
# The CPU build never takes a Kokkos built with CUDA from the environment (cmake/HostKokkos.cmake):
# Kokkos_ROOT exported for the cuda preset, CMAKE_PREFIX_PATH from `spack load`, or a Kokkos_DIR an
# earlier configure cached. A stand-in installation that says it has CUDA and fails if it is ever
# loaded is put in each of those places; configuring the CPU build must succeed with the host Kokkos
# and cache no Kokkos_DIR pointing at the stand-in.
# Usage: test_cpu_preset_ignores_cuda_kokkos.sh <source dir>
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fake=$tmp/kokkos-cuda
mkdir -p "$fake/lib/cmake/Kokkos"
echo 'set(Kokkos_DEVICES SERIAL;CUDA)' >"$fake/lib/cmake/Kokkos/KokkosConfigCommon.cmake"
echo 'set(PACKAGE_VERSION 4.6.1)
set(PACKAGE_VERSION_COMPATIBLE TRUE)' >"$fake/lib/cmake/Kokkos/KokkosConfigVersion.cmake"
echo 'message(FATAL_ERROR "the CPU build loaded the CUDA Kokkos stand-in")' >"$fake/lib/cmake/Kokkos/KokkosConfig.cmake"

configure() {  # <case name> [env assignments and cmake args...]
  local name=$1
  shift
  if ! env "$@" >"$tmp/$name.log" 2>&1; then
    cat "$tmp/$name.log"
    echo "FAIL ($name): the CPU build did not configure" >&2
    exit 1
  fi
  if grep -q "^Kokkos_DIR:PATH=$fake" "$tmp/build-$name/CMakeCache.txt"; then
    echo "FAIL ($name): the CPU build cached the CUDA Kokkos" >&2
    exit 1
  fi
  grep -q "ignores the Kokkos with CUDA" "$tmp/$name.log" || { echo "FAIL ($name): no note" >&2; exit 1; }
  echo "ok ($name): $(grep -m1 'ladderbench: Kokkos ' "$tmp/$name.log")"
}
args=(-S "$src" -G Ninja -DLADDERBENCH_CUDA=OFF -DLADDERBENCH_TESTS=OFF -DLADDERBENCH_CUDA_WRAPPERS=OFF)
configure kokkos_root Kokkos_ROOT="$fake" cmake "${args[@]}" -B "$tmp/build-kokkos_root"
configure prefix_path CMAKE_PREFIX_PATH="$fake" cmake "${args[@]}" -B "$tmp/build-prefix_path"
configure cached_dir cmake "${args[@]}" -B "$tmp/build-cached_dir" -DKokkos_DIR="$fake/lib/cmake/Kokkos"
