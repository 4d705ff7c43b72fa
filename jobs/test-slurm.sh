#!/usr/bin/env bash
# test-slurm.sh — CI end-to-end test of the Slurm job scripts on a real local Slurm.
#
#   jobs/test-slurm.sh            (root; needs build/bin/ladder-bench, slurm-wlm, munge, shellcheck,
#                                  h5dump or python3+h5py, and the analysis package's deps)
#
# 1. shellcheck of jobs/*.sh jobs/*.sbatch scripts/slurm-local.sh
# 2. starts a private single-node Slurm (scripts/slurm-local.sh, own state dir and free ports)
# 3. cpu-sweep.sbatch, one tiny cell, `sbatch --wait`: the plain sweep script works under Slurm
# 4. the CPU array sweep (submit-array.sh --profile cpu --wait; srun --mpi=pmix), tiny settings:
#    every cell's .h5 is complete and the aggregated table exists
# 5. resubmits: nothing is measured again (mtimes and inodes unchanged, log says so)
# 6. deletes one cell and resubmits every cell (--all): only that cell is measured, the other
#    array tasks log "skip"
# 7. always (trap on EXIT): stops the daemons and checks that none is left
# Exits non-zero on any failure. Knobs: LB_TEST_MODEL [tiny], LB_TEST_KEEP=1 keeps the temp dir,
# LB_BIN (another app binary), LB_TEST_TIMEOUT per submission in seconds [600].
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t_start=$(date +%s)
say() { echo "test-slurm[$(($(date +%s) - t_start))s]: $*"; }
fail() { echo "test-slurm: FAIL: $*" >&2; exit 1; }

# --- 1. shellcheck ------------------------------------------------------------------------------
command -v shellcheck >/dev/null 2>&1 || fail "shellcheck not installed (scripts/setup.sh)"
shellcheck -x jobs/*.sh jobs/*.sbatch scripts/slurm-local.sh || fail "shellcheck"
say "shellcheck ok"

# --- prerequisites ------------------------------------------------------------------------------
export LB_BIN=${LB_BIN:-$root/build/bin/ladder-bench}
[ -x "$LB_BIN" ] || fail "$LB_BIN not built (cmake --preset cpu && cmake --build build)"
for b in sbatch srun squeue scontrol slurmctld slurmd munged; do
  command -v "$b" >/dev/null 2>&1 || fail "$b not installed (scripts/setup.sh installs slurm-wlm munge)"
done
if command -v h5dump >/dev/null 2>&1; then
  is_complete() { h5dump -a /complete "$1" 2>/dev/null | grep -Eq '\(0\): *1\b'; }
elif python3 -c 'import h5py' 2>/dev/null; then
  is_complete() { python3 -c 'import sys,h5py; sys.exit(0 if int(h5py.File(sys.argv[1],"r").attrs["complete"])==1 else 1)' "$1"; }
else
  fail "neither h5dump (hdf5-tools) nor python3 h5py available to read the results"
fi
model=${LB_TEST_MODEL:-tiny}
tmo=${LB_TEST_TIMEOUT:-600}

# --- 2. a private cluster; stopped whatever happens ---------------------------------------------
work=$(mktemp -d /tmp/lb-test-slurm.XXXXXX)
export LB_SLURM_DIR=$work/slurm LB_RESULTS_ROOT=$work/results
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=
for ((p = 16817 + RANDOM % 200 * 2, i = 0; i < 50; i++, p += 2)); do
  if port_free "$p" && port_free "$((p + 1))"; then port=$p; break; fi
done
[ -n "$port" ] || fail "no two free ports found for slurmctld/slurmd"
export LB_SLURM_PORT=$port
# sbatch --wait polls every 2 s only when MinJobAge <= 4 (otherwise 8 s, then 32 s): keep CI quick.
export LB_SLURM_MIN_JOB_AGE=${LB_SLURM_MIN_JOB_AGE:-4}
export SLURM_CONF=$LB_SLURM_DIR/slurm.conf
stepds_before=$(pgrep -x slurmstepd | sort || true)
daemon_pids=()
child=

# bg_run CMD...: run CMD as a background child and wait for it, so that a signal to this script
# runs the cleanup at once (bash defers traps until a foreground child returns).
bg_run() {
  "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return $rc
}

exec 3>&1 4>&2 # the cleanup reports here even when it interrupts a redirected command
cleanup() {
  local rc=$? pid left leftovers=0
  set +e
  trap - EXIT
  exec 1>&3 2>&4
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    say "interrupted: stopping child $child"
    kill -TERM "$child" 2>/dev/null
  fi
  say "stopping the local cluster"
  timeout 120 scripts/slurm-local.sh stop || { echo "test-slurm: FAIL: slurm-local.sh stop" >&2; rc=1; }
  for pid in "${daemon_pids[@]}"; do
    if [ -d "/proc/$pid" ]; then echo "test-slurm: FAIL: daemon pid $pid still alive" >&2; leftovers=1; fi
  done
  left=$(pgrep -f -- "$LB_SLURM_DIR/" || true)
  if [ -n "$left" ]; then echo "test-slurm: FAIL: processes of this cluster left: $left" >&2; leftovers=1; fi
  left=$(comm -13 <(echo "$stepds_before") <(pgrep -x slurmstepd | sort || true))
  if [ -n "$left" ]; then echo "test-slurm: FAIL: slurmstepd left: $left" >&2; leftovers=1; fi
  if [ $leftovers -eq 0 ]; then say "no slurm daemon left"; elif [ $rc -eq 0 ]; then rc=1; fi
  if [ "${LB_TEST_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    say "kept $work (logs: $LB_SLURM_DIR/log, $LB_RESULTS_ROOT/*/logs)"
  else
    rm -rf "$work"
  fi
  if [ $rc -eq 0 ]; then say "PASS"; else echo "test-slurm: FAILED (rc=$rc)" >&2; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

timeout 120 scripts/slurm-local.sh start || fail "local Slurm did not start"
for f in "$LB_SLURM_DIR/munge/munged.pid" "$LB_SLURM_DIR/run/slurmctld.pid" "$LB_SLURM_DIR/run/slurmd.pid"; do
  daemon_pids+=("$(cat "$f")")
done
say "cluster up (port $port, daemons ${daemon_pids[*]})"
srun --mpi=pmix -n 2 true || fail "srun --mpi=pmix -n 2 true"

# tiny settings: a few seconds per cell on 2 cores
export LB_BATCHES=1,4 LB_PROMPT_LEN=16 LB_GEN_LEN=8 LB_WARMUP=1 LB_REPS=2 LB_ARRAY_TIME=00:10:00
export LB_REPORT=1

# --- 3. the plain CPU sweep script, one cell ----------------------------------------------------
say "cpu-sweep.sbatch (1 cell, sbatch --wait)"
LB_MODEL=$model LB_TPS=2 LB_RESULTS_DIR=$work/results/plain LB_REPORT=0 \
  bg_run timeout "$tmo" sbatch --wait --time=00:10:00 --output="$work/plain-%j.out" jobs/cpu-sweep.sbatch \
  || { cat "$work"/plain-*.out >&2; fail "cpu-sweep.sbatch"; }
is_complete "$work/results/plain/${model}_tp2_p2p0.h5" || fail "cpu-sweep.sbatch wrote no complete ${model}_tp2_p2p0.h5"
say "cpu-sweep.sbatch ok"

# --- 4. the array sweep ---------------------------------------------------------------------------
name=ci
dir=$LB_RESULTS_ROOT/$name
submit() { bg_run timeout "$tmo" jobs/submit-array.sh --profile cpu --name "$name" --models "$model" --tps "1 2" --p2p "0 1" --wait "$@"; }
cells=("${model}_tp1_p2p0" "${model}_tp1_p2p1" "${model}_tp2_p2p0" "${model}_tp2_p2p1")

say "array sweep, first submission (${#cells[@]} cells)"
submit >"$work/submit1.log" 2>&1 || { cat "$work/submit1.log" >&2; fail "first array submission"; }
cat "$work/submit1.log"
for c in "${cells[@]}"; do
  is_complete "$dir/$c.h5" || fail "$dir/$c.h5 missing or not complete"
done
n=$(grep -l '^lb\[.*\]: measured ' "$dir"/logs/*_*.out | wc -l)
[ "$n" -eq ${#cells[@]} ] || fail "expected ${#cells[@]} array tasks to measure, logs show $n"
[ -z "$(find "$dir" -maxdepth 1 -name '*.partial')" ] || fail ".partial files left in $dir"
tables=$(find "$dir" -name 'speedup.*' -newer "$dir/sweep.conf" | head -n 3)
[ -n "$tables" ] || fail "the aggregation wrote no speedup table under $dir (see $dir/logs/report-*.out)"
say "array sweep ok: ${#cells[@]} complete files, tables: $(echo "$tables" | tr '\n' ' ')"

# --- 5. resubmission measures nothing --------------------------------------------------------------
snapshot() { stat -c '%n %i %.9Y' "$dir"/*.h5; }
before=$(snapshot)
say "array sweep, resubmission"
submit >"$work/submit2.log" 2>&1 || { cat "$work/submit2.log" >&2; fail "resubmission"; }
cat "$work/submit2.log"
grep -q "all ${#cells[@]} cell(s) complete" "$work/submit2.log" || fail "resubmission did not report all cells complete"
grep -q 'submitted array job' "$work/submit2.log" && fail "resubmission submitted an array job"
[ "$(snapshot)" = "$before" ] || fail "result files changed on resubmission:
$(diff <(echo "$before") <(snapshot))"
say "resubmission measured nothing"

# --- 6. lose one cell, resubmit every cell: only that one is measured ------------------------------
lost=${cells[2]}
rm -f "$dir/$lost.h5"
keep=$(stat -c '%n %i %.9Y' "$dir"/*.h5)
say "array sweep, --all after deleting $lost"
submit --all >"$work/submit3.log" 2>&1 || { cat "$work/submit3.log" >&2; fail "resubmission with --all"; }
cat "$work/submit3.log"
jid=$(sed -n 's/.*submitted array job \([0-9]*\):.*/\1/p' "$work/submit3.log")
[ -n "$jid" ] || fail "no array job in the --all resubmission"
is_complete "$dir/$lost.h5" || fail "$lost was not measured again"
while read -r f ino mt; do
  [ "$(stat -c '%i %.9Y' "$f")" = "$ino $mt" ] || fail "$f was measured again"
done <<<"$keep"
measured=$(grep -l '^lb\[.*\]: measured ' "$dir/logs/${jid}"_*.out | wc -l)
skipped=$(grep -l '^lb\[.*\]: skip ' "$dir/logs/${jid}"_*.out | wc -l)
if [ "$measured" -ne 1 ] || [ "$skipped" -ne $((${#cells[@]} - 1)) ]; then
  fail "array $jid: expected 1 measured and $((${#cells[@]} - 1)) skipped tasks, got $measured and $skipped"
fi
say "resume ok: 1 cell measured, $skipped skipped inside the array tasks"

say "all checks passed in $(($(date +%s) - t_start)) s"
