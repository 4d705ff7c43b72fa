#!/usr/bin/env bash
# Speedup vs emulated link latency, measured and predicted (issue 17): the continuous version of
# the paper's P2P on/off study, and the acceptance check of the performance model.
#
#   scripts/latency-sweep.sh OUTDIR
#
# In OUTDIR:
#   allreduce-lat0.h5        ladder-allreduce at TP 2, no emulated link (blocking + async): the
#                            all-reduce time per size and the interference (1 - overlap)
#   allreduce-lat<L>.h5      blocking at each emulated latency L > 0: the wait's overshoot past the link
#   tp2-lat<L>.h5            ladder-bench TP 2, all four variants, batch 1 and 4, emulated link L us,
#                            with --roofline (the calibration of the same job) and --breakdown
#   tp1.h5                   ladder-bench TP 1 (no communication), --roofline, --breakdown
#   tables/predict-check.*   predicted vs measured per cell, verdicts (tokens/s within 15 %,
#                            speedup within 0.05), the largest gap of each miss
#   tables/speedup.*, figures/speedup_vs_link_*  the table with predicted columns, the figure
#
# Exit status: that of `python -m analysis predict --check` (1 if any cell misses), or the first
# failing measurement's. Knobs (environment): LATENCIES ("0 50 100 200 500 1000"), MODEL (demo-cpu),
# BATCHES (1,4), PROMPT (16), GEN (24), WARMUP (1), REPS (12, about 15 minutes on the CI VM: a sample
# there spreads about ±6 %, and a speedup's 95 % interval, printed with it, is then about ±0.05-0.07;
# REPS 36, about 40 minutes, narrows it to about ±0.04), VARIANTS (standard,ladder,parallel,upper-bound), TP1_VARIANTS
# (standard; empty: no TP 1 job), AR_MIN/AR_MAX (4K/1M: the decode and prefill messages of demo-cpu at
# these batches and prompt), LB_MEASURE_LOCK (a
# lock file each measurement holds exclusively, e.g. on a machine shared with builds). A job spoiled
# by other load can be measured again alone into the same OUTDIR, e.g. LATENCIES=0 TP1_VARIANTS= ...;
# the check then reads every file there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/latency-sweep.sh OUTDIR}
LATENCIES=${LATENCIES:-"0 50 100 200 500 1000"}
MODEL=${MODEL:-demo-cpu}
BATCHES=${BATCHES:-1,4}
PROMPT=${PROMPT:-16}
GEN=${GEN:-24}
WARMUP=${WARMUP:-1}
REPS=${REPS:-12}
VARIANTS=${VARIANTS:-standard,ladder,parallel,upper-bound}
TP1_VARIANTS=${TP1_VARIANTS-standard}
AR_MIN=${AR_MIN:-4K}
AR_MAX=${AR_MAX:-1M}

for app in ladder-bench ladder-allreduce; do
  [ -x "build/bin/$app" ] || bash scripts/build.sh --target "$app"
done
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
measure() {  # one measurement, exclusive on LB_MEASURE_LOCK if set; its log next to its file
  local log=$1; shift
  if [ -n "${LB_MEASURE_LOCK:-}" ]; then
    flock -x "$LB_MEASURE_LOCK" "$@" >"$log" 2>&1
  else
    "$@" >"$log" 2>&1
  fi || { echo "latency-sweep: failed, see $log" >&2; tail -5 "$log" >&2; exit 1; }
}
start=$(date +%s)
mpi2=(mpirun --oversubscribe -np 2)
echo "latency-sweep: $MODEL, TP 2 at ${LATENCIES// /, } us + TP 1, batch $BATCHES, prompt $PROMPT, gen $GEN, warmup $WARMUP, reps $REPS -> $out"

# The communication calibration: the same collective path as the model's, alone.
measure "$out/allreduce-lat0.log" "${mpi2[@]}" build/bin/ladder-allreduce -b "$AR_MIN" -e "$AR_MAX" -f 2 -w 5 -n 40 \
  --mode both --out "$out/allreduce-lat0.h5" --overwrite
for lat in $LATENCIES; do
  [ "$lat" = 0 ] && continue
  measure "$out/allreduce-lat$lat.log" "${mpi2[@]}" build/bin/ladder-allreduce -b "$AR_MIN" -e "$AR_MAX" -f 4 -w 3 \
    -n 20 --mode blocking --link-latency-us "$lat" --out "$out/allreduce-lat$lat.h5" --overwrite
done

common=(--model "$MODEL" --batch "$BATCHES" --prompt-len "$PROMPT" --gen-len "$GEN" --warmup "$WARMUP" --reps "$REPS"
        --roofline --breakdown --overwrite)
for lat in $LATENCIES; do
  echo "latency-sweep: TP 2, link $lat us ($(( $(date +%s) - start )) s so far)"
  measure "$out/tp2-lat$lat.log" "${mpi2[@]}" build/bin/ladder-bench "${common[@]}" --variant "$VARIANTS" \
    --link-latency-us "$lat" --out "$out/tp2-lat$lat.h5"
done
if [ -n "$TP1_VARIANTS" ]; then
  echo "latency-sweep: TP 1 ($(( $(date +%s) - start )) s so far)"
  measure "$out/tp1.log" mpirun -np 1 build/bin/ladder-bench "${common[@]}" --variant "$TP1_VARIANTS" --out "$out/tp1.h5"
fi
echo "latency-sweep: measured in $(( $(date +%s) - start )) s"

python3 -m analysis table "$out" --out-dir "$out/tables" >/dev/null
python3 -m analysis plot "$out" --out-dir "$out/figures"
python3 -m analysis predict --check "$out" --out-dir "$out/tables"
