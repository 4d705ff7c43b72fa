#!/usr/bin/env bash
# Gets everything a short GPU lease needs ready on a build machine without a GPU (build here,
# carry, run once): the `cuda` preset built, the CPU build's reference logits for the bf16 check,
# and the bundle that lets the binaries run where MPI/HDF5 are not installed.
#   Kokkos_ROOT=/path/to/kokkos-with-cuda scripts/gpu/prepare-lease.sh
# Then, on the GPU machine, in a copy of this checkout carrying .gpu-carry.tar.xz and .gpu-carry-ref/:
#   scripts/gpu/bench-tp1.sh results/gpu-tp1
# Idempotent: builds are incremental, the reference is made once (LB_FORCE=1 remakes it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
: "${Kokkos_ROOT:?set Kokkos_ROOT to a Kokkos >= 4 installed with Kokkos_ENABLE_CUDA=ON (docs/gpu.md)}"
jobs=${JOBS:-2}

cmake --preset cuda -DKokkos_ROOT="$Kokkos_ROOT" >/dev/null
cmake --build --preset cuda -j "$jobs"
cmake --preset cpu >/dev/null
cmake --build build --target ladder-bench -j "$jobs"

# The CPU build's fp32 logits of the 1B shape (random weights, seed 1), the reference of the GPU's
# bf16 logits. A 128-token prompt keeps this a minute on two cores; the GPU run repeats exactly
# these flags (scripts/gpu/gpu_report.py argv).
ref=.gpu-carry-ref/1b-standard-fp32-cpu.h5
if [ ! -f "$ref" ] || [ "${LB_FORCE:-0}" = 1 ]; then
  mkdir -p .gpu-carry-ref
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 \
    mpirun -np 1 build/bin/ladder-bench --model 1b --variant standard --batch 1 --prompt-len 128 --gen-len 2 \
    --warmup 0 --reps 1 --seed 1 --save-logits --overwrite --out "$ref"
fi

LB_BUNDLE_TAR=1 scripts/gpu/bundle.sh build-cuda .gpu-carry
du -sh .gpu-carry.tar.xz .gpu-carry-ref
cat <<'MSG'
Ready. On the GPU machine (the device tool: carry [".gpu-carry.tar.xz", ".gpu-carry-ref"]); results go
straight to $OUT/gpu-tp1, so a call stopped at its time limit still returns what it measured.
First a cheap call (unit tests, logits check, 1B bf16 batch 1):
  LB_QUICK=1 scripts/gpu/bench-tp1.sh
then the full table:
  LB_TESTS=0 scripts/gpu/bench-tp1.sh
MSG
