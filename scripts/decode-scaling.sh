#!/usr/bin/env bash
# CPU decode against its weight-streaming limit (issue 16): decode step time vs batch on the
# stream-cpu model (0.89 GB of fp32 weights, TP=1) next to the roofline floor measured in the same
# job (weights + KV bytes per step / STREAM read of one core), then the demo-cpu table (TP=1 and
# TP=2, batch 1 and 4, standard / ladder / upper-bound, no emulated link) in tokens/s.
#
#   scripts/decode-scaling.sh [OUTDIR]      (default results/decode-scaling)
#   LB_BIN=path/to/ladder-bench             another build of the app (an A/B against an older one)
#   LB_REPS=7 LB_GEN=64                     timed generations per cell, generated tokens per sequence
#
# Cores: the stream-cpu part runs one rank on one core (its floor is one core's read bandwidth); in
# the demo-cpu table every cell gets all of the machine's cores (nproc): TP=1 one rank on all of
# them (`--map-by slot:PE=N`: its compute threads split the decode GEMM, core/cpu_layout), TP=2 half
# each. Needs a built app (scripts/build.sh) and the analysis' Python packages (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/decode-scaling}
bin=${LB_BIN:-build/bin/ladder-bench}
reps=${LB_REPS:-7}
gen=${LB_GEN:-64}
[ -x "$bin" ] || { echo "decode-scaling: no app at $bin (run scripts/build.sh)" >&2; exit 1; }
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
(( cores >= 2 )) || { echo "decode-scaling: needs 2 or more cores for TP=2, this machine has $cores" >&2; exit 1; }
common=(--prompt-len 128 --gen-len "$gen" --warmup 1 --reps "$reps" --overwrite)

# Step times need few steps; the older build's batch-16 step takes 0.4 s.
OPENBLAS_NUM_THREADS=1 mpirun -np 1 "$bin" --model stream-cpu --variant standard --batch 1,2,4,8,16 --roofline --prompt-len 128 \
  --gen-len 16 --warmup 1 --reps 5 --overwrite --out "$out/stream-cpu-tp1.h5" >"$out/stream-cpu-tp1.log"
OPENBLAS_NUM_THREADS=$cores mpirun -np 1 --map-by slot:PE=$cores "$bin" --model demo-cpu --variant standard --batch 1,4 "${common[@]}" \
  --out "$out/demo-cpu-tp1.h5" >"$out/demo-cpu-tp1.log"
OPENBLAS_NUM_THREADS=$((cores / 2)) mpirun -np 2 --map-by slot:PE=$((cores / 2)) "$bin" --model demo-cpu --variant standard,ladder,upper-bound --batch 1,4 "${common[@]}" \
  --out "$out/demo-cpu-tp2.h5" >"$out/demo-cpu-tp2.log"

python3 - "$out" <<'PY'
import sys
import h5py

out = sys.argv[1]

def runs(path):
    with h5py.File(path, "r") as f:
        root = dict(f.attrs)
        for name in sorted(f["runs"]):
            yield root, dict(f["runs"][name].attrs)

print("# decode step vs batch, stream-cpu, TP=1 (median step; floor = bytes per step / STREAM read)")
print(f"{'batch':>5} {'step ms':>9} {'floor ms':>9} {'% of read':>9} {'x batch 1':>9}")
base = None
read_Bps = float("nan")
for root, a in sorted(runs(f"{out}/stream-cpu-tp1.h5"), key=lambda r: r[1]["batch"]):
    step = a["decode_step_s_median"]
    base = base or step
    read_Bps = root.get("roofline_stream_read_Bps", float("nan"))  # builds before issue 16: none
    floor = a["decode_bytes_per_step"] / read_Bps
    print(f"{a['batch']:>5} {step * 1e3:>9.2f} {floor * 1e3:>9.2f} {100 * floor / step:>8.0f}% {step / base:>9.2f}")
print(f"# STREAM read {read_Bps / 1e9:.2f} GB/s per core; git {root['git_sha']}")
print()
print("# demo-cpu, prompt 128: tokens/s (median), prefill and decode step medians")
print(f"{'TP':>3} {'batch':>5} {'variant':<12} {'tok/s':>8} {'prefill ms':>11} {'step ms':>8}")
for tp in (1, 2):
    for root, a in sorted(runs(f"{out}/demo-cpu-tp{tp}.h5"), key=lambda r: (r[1]["batch"], r[1]["variant"])):
        layouts = root.get("cpu_layouts")  # builds before issue 16: none
        print(f"{tp:>3} {a['batch']:>5} {a['variant']:<12} {a['tokens_per_s_median']:>8.1f} "
              f"{a['prefill_s_median'] * 1e3:>11.1f} {a['decode_step_s_median'] * 1e3:>8.2f}")
    print(f"#   TP={tp} cores: {'; '.join(str(l) for l in layouts) if layouts is not None else 'not recorded'}")
PY
