#!/usr/bin/env bash
# Runs a test command unless the Kokkos-CUDA binary it launches cannot start on this machine.
# A Kokkos-CUDA program links the NVIDIA driver (libcuda.so.1) directly, so on a machine without
# the driver (a cluster's login node, where the cuda preset is built) it dies at load time with
# exit 127, or a test script polls for its output until its own timeout. ctest registers the tests
# of the cuda preset through this wrapper with SKIP_RETURN_CODE 77: they are reported skipped,
# with this one line, instead.
# Usage: skip_without_gpu_driver.sh <binary the test launches> <command> [args...]
set -uo pipefail
binary=$1
shift
# ldd's whole output first: `ldd | grep -q` under pipefail fails when grep's early exit SIGPIPEs ldd.
deps=$(ldd "$binary" 2>/dev/null)
if grep -q 'libcuda\.so\.1 => not found' <<<"$deps"; then
  echo "SKIPPED: $(basename "$binary") is a GPU program and this machine has no NVIDIA driver (libcuda.so.1 not found)"
  exit 77
fi
exec "$@"
