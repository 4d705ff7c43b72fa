#!/usr/bin/env bash
# Configures, builds and tests the `cuda` preset (build-cuda/) against a Kokkos built with CUDA,
# given as Kokkos_ROOT (docs/gpu.md says how to get one). Run on a node with a GPU for the tests.
#   Kokkos_ROOT=/path/to/kokkos-cuda scripts/gpu/build-cuda.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${Kokkos_ROOT:?set Kokkos_ROOT to a Kokkos >= 4 installed with Kokkos_ENABLE_CUDA=ON (docs/gpu.md)}"
cmake --preset cuda -DKokkos_ROOT="$Kokkos_ROOT" "$@"
cmake --build --preset cuda -j "${JOBS:-8}"
ctest --preset cuda -j "${JOBS:-8}"
