#!/usr/bin/env bash
# The CPU demo: a small-scale version of the paper's speedup table. Installs dependencies, builds,
# runs TP=2 (two MPI ranks) with standard, ladder, parallel and upper-bound on the demo-cpu model
# over an EMULATED slow link (200 us per all-reduce, below one module's compute time at TP=2),
# prints the table, and writes the HDF5 file and the tables under results/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh --target ladder-bench  # the app alone: the tests are line 2's

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
out=results/demo
mkdir -p "$out"
mpirun --oversubscribe -np 2 build/bin/ladder-bench --model demo-cpu --variant standard,ladder,parallel,upper-bound --batch 1,4 \
  --prompt-len 128 --gen-len 64 --warmup 1 --reps 5 --link-latency-us 200 \
  --out "$out/demo-cpu-tp2.h5" --overwrite
echo
python3 -m analysis table "$out/demo-cpu-tp2.h5" --out-dir "$out/tables"
echo "demo: results in $out/demo-cpu-tp2.h5, tables in $out/tables/"
