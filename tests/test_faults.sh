#!/usr/bin/env bash
# Fault injection under mpirun -np 2: a rank killed with SIGKILL mid-run, a rank that hangs
# (SIGSTOP), SIGTERM mid-sweep, and a full disk. Each must end the job promptly and non-zero, with
# every run measured before the fault readable in the .partial results file; after a kill or a hang
# no rank of the job may remain, nor any of its shared-memory files (the all-reduces' window).
# Usage: test_faults.sh <ladder-bench> <source dir>
set -uo pipefail
bench=$1
src=$2
tmp=$(mktemp -d)
trap 'pkill -KILL -f "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
failures=0
passed=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; passed=$((passed + 1)); }

# A long sweep on the demo model: 40 batch sizes of about a second each, so faults strike after
# some runs are complete and while others are being measured.
# shellcheck disable=SC2054  # the commas are flag values, not separators
sweep=(--model "$src/configs/models/demo-cpu" --variant standard,ladder --prompt-len 16 --gen-len 8 --warmup 0
  --reps 2 --batch "$(seq -s, 1 40)")

# start_sweep OUT [extra args] -> launches mpirun in the background, sets $job
start_sweep() {
  local out=$1
  shift
  mpirun --oversubscribe -np 2 "$bench" "${sweep[@]}" --out "$out" "$@" >"$out.log" 2>&1 &
  job=$!
}

# wait_for_runs FILE N: until N runs are reported (max 60 s)
wait_for_runs() {
  for _ in $(seq 600); do
    [ "$(grep -c '^ *[0-9]  ' "$1.log" 2>/dev/null)" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# rank_pid OUT RANK -> pid of that rank of the job writing OUT
rank_pid() {
  for p in $(pgrep -f -- "--out $1"); do
    [ "$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = "$2" ] && echo "$p"
  done
}

# job_tag PID -> how MPI names the shared-memory files of that rank's job: its job id in hex
job_tag() {
  printf '%x' "$(tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^OMPI_MCA_ess_base_jobid=//p')"
}

# left_behind OUT TAG: what the ended job writing OUT left: running ranks, files in /dev/shm
left_behind() {
  local files
  pgrep -f -- "--out $1" >/dev/null && echo "ranks still running"
  files=$(ls /dev/shm | grep -F "$2" | tr '\n' ' ')
  [ -n "$files" ] && echo "shared-memory files left: $files"
}

# readable FILE N: the .partial results file holds N complete, readable runs
readable() {
  python3 - "$1" "$2" <<'PY'
import sys, h5py
path, want = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "ladderbench" and f.attrs["complete"] == 0
    runs = list(f["runs"].values())
    for g in runs:
        n = int(g.attrs["reps"])
        assert g["tokens_per_s"][:].shape == (n,) and (g["tokens_per_s"][:] > 0).all()
    assert len(runs) >= want, f"{len(runs)} runs, expected >= {want}"
PY
}

# 1. SIGKILL of rank 1 while batch 2 runs: the job ends within --timeout-s + 10 s.
out=$tmp/killed.h5
start_sweep "$out" --timeout-s 5
if wait_for_runs "$out" 2; then
  victim=$(rank_pid "$out" 1)
  tag=$(job_tag "$victim")
  kill -KILL "$victim"
  t0=$SECONDS
  timeout 60 tail -s 0.1 --pid="$job" -f /dev/null
  wait "$job"
  rc=$?
  took=$((SECONDS - t0))
  left=$(left_behind "$out" "$tag")
  if [ "$rc" -eq 0 ] || [ "$took" -gt 15 ]; then fail "sigkill: rc $rc after ${took}s"
  elif [ -n "$left" ]; then fail "sigkill: $left"
  elif ! readable "$out.partial" 2; then fail "sigkill: partial file unreadable"
  else ok "sigkill: job ended ${took}s after rank 1 was killed (rc $rc), nothing left behind; 2 completed runs readable"; fi
else
  fail "sigkill: batch 1 never finished"; sed 's/^/    /' "$out.log"
fi

# 2. A rank that hangs (SIGSTOP): the watchdog of rank 0 names the wait and aborts the job.
out=$tmp/hung.h5
start_sweep "$out" --timeout-s 3
if wait_for_runs "$out" 2; then
  victim=$(rank_pid "$out" 1)
  tag=$(job_tag "$victim")
  kill -STOP "$victim"
  t0=$SECONDS
  timeout 60 tail -s 0.1 --pid="$job" -f /dev/null
  wait "$job"
  rc=$?
  took=$((SECONDS - t0))
  kill -KILL "$victim" 2>/dev/null
  timeout 10 tail -s 0.1 --pid="$victim" -f /dev/null
  left=$(left_behind "$out" "$tag")
  if [ "$rc" -eq 0 ] || [ "$took" -gt 13 ]; then fail "hang: rc $rc after ${took}s"
  elif ! grep -qE "waited .* for (the all-reduce of|the barrier|the timing reduction).*aborting the job" "$out.log"; then
    fail "hang: no watchdog message naming the wait"; sed 's/^/    /' "$out.log"
  elif [ -n "$left" ]; then fail "hang: $left"
  elif ! readable "$out.partial" 2; then fail "hang: partial file unreadable"
  else ok "hang: aborted after ${took}s: $(grep -o 'waited .* for [^(]*' "$out.log" | head -1)"; fi
else
  fail "hang: batch 1 never finished"
fi

# 3. SIGTERM to mpirun mid-sweep (a Slurm time limit): stop after the measurement in progress.
out=$tmp/term.h5
start_sweep "$out"
if wait_for_runs "$out" 2; then
  kill -TERM "$job"
  t0=$SECONDS
  wait "$job"
  rc=$?
  took=$((SECONDS - t0))
  if [ "$rc" -eq 0 ]; then fail "sigterm: exit 0"
  elif ! grep -q "stopped by SIGTERM" "$out.log"; then fail "sigterm: no message"; sed 's/^/    /' "$out.log"
  elif ! readable "$out.partial" 2; then fail "sigterm: file invalid or runs missing"
  else ok "sigterm: stopped after ${took}s (rc $rc), completed runs and the interrupted batch's measured reps readable"; fi
else
  fail "sigterm: batch 1 never finished"
fi

# 4. A disk that fills up mid-run (a file-size limit put on rank 0, which writes the file, once two
#    runs are in it; SIGXFSZ ignored so write() fails with EFBIG): reported as such, the file written
#    so far stays readable. Mid-run, not from the start: the ranks' shared-memory window and MPI's
#    own segments are files too, and a disk full before the job starts is another failure.
out=$tmp/full.h5
# shellcheck disable=SC2016  # $0 and $@ belong to the inner shell
mpirun --oversubscribe -np 2 bash -c 'trap "" XFSZ; exec "$0" "$@"' "$bench" "${sweep[@]}" --out "$out" \
  >"$out.log" 2>&1 &
job=$!
if wait_for_runs "$out" 2; then
  prlimit --pid "$(rank_pid "$out" 0)" --fsize="$(stat -c %s "$out.partial")"
else
  fail "full disk: batch 1 never finished"
fi
timeout 120 tail -s 0.1 --pid="$job" -f /dev/null
wait "$job"
rc=$?
if [ "$rc" -eq 0 ]; then fail "full disk: exit 0 (limit too high?)"
elif ! grep -q "writing results file .* failed" "$out.log"; then fail "full disk: no message"; sed 's/^/    /' "$out.log"
elif ! python3 -c "import h5py,sys; h5py.File(sys.argv[1],'r')['runs']" "$out.partial"; then fail "full disk: partial file unreadable"
else ok "full disk: $(grep -o 'writing results file .* failed[^\n]*' "$out.log" | head -1)"; fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
