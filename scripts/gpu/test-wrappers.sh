#!/usr/bin/env bash
# Builds and runs the CUDA wrapper tests (src/*/cuda/, tests/cuda/) of the default build: needs nvcc,
# cuBLAS and NCCL, no CUDA-enabled Kokkos. Without a GPU they are reported skipped. On a machine
# where nvidia-smi lists GPUs (or with LB_REQUIRE_GPU=1), a skipped GPU test is an error.
#   scripts/gpu/test-wrappers.sh [build-dir]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
if ! grep -q '^LADDERBENCH_CUDA_WRAPPERS:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "test-wrappers: nvcc not found (or LADDERBENCH_CUDA_WRAPPERS=OFF): nothing to test" >&2
  exit 1
fi
cmake --build "$build" --target test_cuda_wrappers test_cuda_nccl -j "${JOBS:-2}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest --test-dir "$build" -R '^cuda_' --output-on-failure | tee "$log"
require=${LB_REQUIRE_GPU:-0}
gpus=0
if command -v nvidia-smi >/dev/null; then gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true); fi
[ "${gpus:-0}" -gt 0 ] && require=1
if [ "$require" = 1 ]; then
  # cuda_nccl_np2 needs two GPUs: with one, its skip is expected.
  if grep -Eq 'cuda_(gpu|nccl_np1) .*Skipped' "$log" ||
     { grep -Eq 'cuda_nccl_np2 .*Skipped' "$log" && [ "${gpus:-0}" -ge 2 ]; }; then
    echo "test-wrappers: GPU tests were skipped on a machine with a GPU (see the skip messages)" >&2
    exit 1
  fi
fi
