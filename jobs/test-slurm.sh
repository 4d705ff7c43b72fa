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
tname=test-slurm
# shellcheck source=jobs/test-cluster.sh
. "$(dirname "$0")/test-cluster.sh"

# --- 1. shellcheck ------------------------------------------------------------------------------
command -v shellcheck >/dev/null 2>&1 || fail "shellcheck not installed (scripts/setup.sh)"
shellcheck -x jobs/*.sh jobs/*.sbatch scripts/slurm-local.sh || fail "shellcheck"
say "shellcheck ok"

# --- 2. a private cluster; stopped whatever happens ---------------------------------------------
tc_prerequisites
model=${LB_TEST_MODEL:-tiny}
tmo=${LB_TEST_TIMEOUT:-600}
tc_start_cluster 1
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
