#!/usr/bin/env bash
# test-slurm-two-nodes.sh — CI test of the cross-node job on a real two-node Slurm on this machine
# (ctest slurm_two_nodes). Root; needs build/bin/ladder-bench, slurm-wlm, munge, unshare, h5dump,
# python3 with h5py and numpy.
#
# 1. starts a private two-node cluster (scripts/slurm-local.sh --nodes 2: n1 and n2, each slurmd in
#    its own UTS namespace on 127.0.0.2/3); OpenMPI talks TCP over loopback (set here, not in the jobs)
# 2. jobs/two-node-405b.sbatch, shrunk to the tiny model by its LB_* knobs and sbatch's command line,
#    runs TP=1 and TP=2 with one rank on n1 and one on n2: the job succeeds, the TP=2 file records
#    hostnames n1,n2, two nodes, local ranks 0,0, the MPI path (a progress thread), and its logits
#    equal TP=1's within 1e-5
# 3. an array sweep across both nodes (submit-array.sh, --nodes=2) resumes after one deleted cell
# 4. node faults, each on a TP=2 job whose later batches keep it running, injected once its first
#    batch is written:
#    a. SIGKILL of the rank on n2            -> the job is FAILED within 15 s
#    b. SIGSTOP of the rank on n2            -> the app's --timeout-s watchdog on n1 names the wait
#                                               and ends the job (within timeout + 15 s)
#    c. SIGKILL of everything on n2 (slurmd, steps, rank) -> the job ends (NODE_FAIL) within
#       SlurmdTimeout + 2 ping rounds + 25 s (the issue's SlurmdTimeout + 15 s is printed, not
#       checked: see "Node failure detection" below), nothing of it is left on n1 15 s later, the
#       .partial file holds the runs done before the fault, and no live node was set DOWN before it
# 5. always (trap on EXIT): stops the cluster; no daemon, step or node namespace may be left.
# Knobs: LB_TEST_KEEP=1 keeps the temp dir, LB_BIN another app binary.
set -euo pipefail
tname=test-slurm-two-nodes
# shellcheck source=jobs/test-cluster.sh
. "$(dirname "$0")/test-cluster.sh"

tc_prerequisites
python3 -c 'import h5py, numpy' 2>/dev/null || fail "python3 with h5py and numpy needed (scripts/setup.sh)"
# slurmctld at debug level: its log then shows every ping round and, each second, a node that has
# not answered a ping or another RPC in time ("Nodes X not responding"; at info level only every 300 s).
export LB_SLURM_DEBUG=${LB_SLURM_DEBUG:-debug}
tc_start_cluster 2
ctld_log=$LB_SLURM_DIR/log/slurmctld.log
slurmd_timeout=$(sed -n 's/^SlurmdTimeout=//p' "$SLURM_CONF")
msg_timeout=$(sed -n 's/^MessageTimeout=//p' "$SLURM_CONF")

# Loopback only, for this test: the job scripts must not hard-code it (OpenMPI's TCP transport
# skips 127.0.0.0/8 unless told, and the "nodes" share this host's only network).
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo
export LB_CHECK_GPUS=0 LB_DTYPE=fp32 LB_MODEL=tiny LB_P2P=0 LB_REPORT=0
export LB_BATCHES=1,4 LB_PROMPT_LEN=16 LB_GEN_LEN=8 LB_WARMUP=1 LB_REPS=2
# The GPU job's resources, cut to one CPU rank per node (the #SBATCH lines stay as they are).
two_node=(--ntasks-per-node=1 --cpus-per-task=1 --gpus-per-node=0 --time=00:10:00)

# job_state JOBID: Slurm's state of the job (empty once MinJobAge has purged it).
job_state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
# wait_end JOBID SECONDS: poll (0.2 s) until the job is no longer pending/running; prints its state.
wait_end() {
  local s i
  for ((i = 0; i < $2 * 5; i++)); do
    s=$(job_state "$1")
    case $s in PENDING | RUNNING | CONFIGURING | COMPLETING | '') ;; *) echo "$s"; return 0 ;; esac
    sleep 0.2
  done
  echo "${s:-gone}"
  return 1
}
elapsed_ms() { echo $(($(date +%s%3N) - $1)); }

# --- 2. the two-node job, TP=1 and TP=2 -----------------------------------------------------------
dir=$work/results/two
say "two-node-405b.sbatch: tiny, TP 1 and 2 over n1+n2 (sbatch --wait)"
t0=$(date +%s%3N)
LB_TPS="1 2" LB_RESULTS_DIR=$dir LB_EXTRA_ARGS="--save-logits --timeout-s 30" \
  bg_run timeout 300 sbatch --wait "${two_node[@]}" --output="$work/two-%j.out" jobs/two-node-405b.sbatch \
  || { cat "$work"/two-*.out >&2; fail "two-node-405b.sbatch failed"; }
say "job done in $(elapsed_ms "$t0") ms"
for tp in 1 2; do is_complete "$dir/tiny_tp${tp}_p2p0.h5" || fail "tiny_tp${tp}_p2p0.h5 missing or not complete"; done
h5dump -a /hostnames "$dir/tiny_tp2_p2p0.h5"
python3 - "$dir/tiny_tp2_p2p0.h5" <<'PY' || fail "the TP=2 file does not record two nodes n1, n2"
import sys, h5py
a = h5py.File(sys.argv[1], "r").attrs
hosts = [h.decode() if isinstance(h, bytes) else str(h) for h in a["hostnames"]]
print(f"hostnames {hosts}, node_count {a['node_count']}, local_ranks {list(a['local_ranks'])}, devices {list(a['devices'])}")
assert hosts == ["n1", "n2"], hosts
assert a["node_count"] == 2 and list(a["local_ranks"]) == [0, 0]
# Across nodes the all-reduces go through MPI with a progress thread, not the node-local shared memory.
transports = [t.decode() if isinstance(t, bytes) else str(t) for t in a["comm_transports"]]
print(f"backend {a['backend']}, transports {transports}")
assert a["backend"] in ("mpi", b"mpi") and all(t.startswith("mpi:") for t in transports), transports
PY
python3 tests/compare_tp_logits.py "$dir/tiny_tp1_p2p0.h5" "$dir/tiny_tp2_p2p0.h5" --tol 1e-5 \
  || fail "TP=2 across nodes differs from TP=1"
say "two-node job ok: hostnames n1,n2, logits TP=2 == TP=1 within 1e-5"

# --- 3. an array sweep across both nodes, resumed after losing a cell ------------------------------
adir=$LB_RESULTS_ROOT/two-array
submit() { bg_run timeout 300 jobs/submit-array.sh --profile cpu --name two-array --models tiny --tps "1 2" --p2p 0 --wait "$@" -- --nodes=2; }
say "array sweep over n1+n2 (2 cells)"
submit >"$work/array1.log" 2>&1 || { cat "$work/array1.log" >&2; fail "array sweep"; }
for c in tiny_tp1_p2p0 tiny_tp2_p2p0; do is_complete "$adir/$c.h5" || fail "array cell $c not complete"; done
h5dump -a /hostnames "$adir/tiny_tp2_p2p0.h5" | grep -q '"n2"' || fail "the array's TP=2 cell did not run on n2"
keep=$(stat -c '%i %.9Y' "$adir/tiny_tp1_p2p0.h5")
rm -f "$adir/tiny_tp2_p2p0.h5"
say "array sweep --all after deleting tiny_tp2_p2p0"
submit --all >"$work/array2.log" 2>&1 || { cat "$work/array2.log" >&2; fail "array resubmission"; }
jid=$(sed -n 's/.*submitted array job \([0-9]*\):.*/\1/p' "$work/array2.log")
is_complete "$adir/tiny_tp2_p2p0.h5" || fail "the deleted cell was not measured again"
[ "$(stat -c '%i %.9Y' "$adir/tiny_tp1_p2p0.h5")" = "$keep" ] || fail "the complete cell was measured again"
[ "$(grep -l '^lb\[.*\]: measured ' "$adir/logs/${jid}"_*.out | wc -l)" -eq 1 ] || fail "array $jid: not exactly 1 cell measured"
[ "$(grep -l '^lb\[.*\]: skip ' "$adir/logs/${jid}"_*.out | wc -l)" -eq 1 ] || fail "array $jid: not exactly 1 cell skipped"
say "array resume ok: 1 measured, 1 skipped"

# --- 4. node faults ---------------------------------------------------------------------------------
# submit_fault NAME EXTRA_APP_ARGS: the TP=2 job into its own results dir; prints the job id.
# Batch 1 is written within seconds, the seven larger batches after it take tens of seconds (about
# 1000 all-reduces a run at ~0.15 ms each here). Not an emulated link delay: its sleeps stretch
# to ~0.3 s each on this loaded machine.
fault_gen=200 # prompt 16 + gen - 1 within the tiny model's 256 positions
submit_fault() {
  LB_TPS=2 LB_RESULTS_DIR=$work/results/$1 LB_BATCHES=1,8,16,32,64,128,256,512 LB_GEN_LEN=$fault_gen \
    LB_REPS=4 LB_EXTRA_ARGS="$2" \
    sbatch --parsable "${two_node[@]}" --output="$work/$1.out" jobs/two-node-405b.sbatch
}
# rank_on NODE: the PID of the app rank running in NODE's namespace.
rank_on() {
  local p ns=${node_ns[$((${1#n} - 1))]}
  for p in $(pgrep -x ladder-bench); do
    [ "$(readlink "/proc/$p/ns/uts" 2>/dev/null)" != "$ns" ] || { echo "$p"; return 0; }
  done
  return 1
}
# started NAME: the first batch's table rows are out (its runs are in the .partial file).
started() { grep -Eq "^ +1 +16 +$fault_gen  standard" "$work/$1.out" 2>/dev/null && rank_on n2 >/dev/null; }
# arm NAME JOBID: wait (bounded) until the job has measured its first batch with both ranks alive.
arm() {
  local i st
  for ((i = 0; i < 600; i++)); do
    started "$1" && return 0
    st=$(job_state "$2")
    case $st in PENDING | CONFIGURING | RUNNING | '') ;; *) cat "$work/$1.out" >&2; fail "fault job $1 ended before the fault ($st)" ;; esac
    sleep 0.2
  done
  cat "$work/$1.out" >&2
  fail "fault job $1 did not get through its first batch in 120 s"
}
# check_bound WHAT MS BOUND_S: the measured time against the issue's bound (the wait had headroom).
check_bound() {
  say "$1 after $(($2 / 1000)).$(printf %03d $(($2 % 1000))) s (bound $3 s)"
  [ "$2" -le $(($3 * 1000)) ] || fail "$1 took $2 ms, over the $3 s bound"
}

# rank_fault NAME SIGNAL TIMEOUT_S: submit, wait for the first batch, send SIGNAL to the rank on n2;
# the job must end FAILED. Sets ms (fault -> end).
rank_fault() {
  local jid pid st t0
  jid=$(submit_fault "$1" "--timeout-s $3")
  arm "$1" "$jid"
  pid=$(rank_on n2)
  t0=$(date +%s%3N)
  kill "-$2" "$pid"
  st=$(wait_end "$jid" 90) || fail "job $jid still $st 90 s after SIG$2 to the rank on n2"
  ms=$(elapsed_ms "$t0")
  [ "$st" = FAILED ] || fail "job $jid ended $st after SIG$2 to the rank on n2, expected FAILED"
}

say "fault a: SIGKILL of the rank on n2"
rank_fault kill-rank KILL 30
check_bound "job FAILED" "$ms" 15

say "fault b: SIGSTOP of the rank on n2 (--timeout-s 10)"
rank_fault stop-rank STOP 10
grep -E 'rank 0: waited [0-9.]+ s for .* \(limit --timeout-s 10' "$work/stop-rank.out" \
  || { cat "$work/stop-rank.out" >&2; fail "the watchdog did not name the wait"; }
check_bound "watchdog ended the job" "$ms" 25

# Node failure detection, from Slurm 22.05's source and this cluster's debug logs:
# - slurmctld sets a silent node DOWN only in a ping round, once its last answer is older than
#   SlurmdTimeout at the round before (ping_nodes.c: node_dead_time = last round - SlurmdTimeout);
# - a round starts every SlurmdTimeout/3 s, but only when the previous round's pings are done
#   (controller.c: is_ping_done), and a ping to a dead node's closed port is refused at once and
#   retried every second for MessageTimeout s (slurm_send_addr_recv_msgs): while n2 is dead, a round
#   takes max(SlurmdTimeout/3, MessageTimeout + 2) s (12 s here; TCPTimeout plays no part, nothing
#   times out);
# - once n2 is DOWN, slurmd on n1 sends the steps SIGTERM and waits MAX(KillWait, 5) = 5 s before
#   SIGKILL (the app stops gracefully, so it waits for its dead peer), then the job leaves COMPLETING.
# So the job ends up to SlurmdTimeout + 2 rounds + 5 s after the kill: 20 + 24 + 5 = 49 s with
# Slurm's MessageTimeout of 10 s, more under load (measured 33-56 s). The issue's SlurmdTimeout + 15 s
# needs rounds of at most 4 s, i.e. MessageTimeout <= 2 s. Measured so (with SlurmdTimeout=9) the job
# ended in 13-21 s, but then slurmctld's RPCs to live slurmds time out under load (a step's
# slurmstepd can take 2-3 s to take a signal), and fault b's job waited for slurmctld to resend its
# terminate request (26.4 s, over its bound). So this cluster keeps MessageTimeout=10, and the check
# is SlurmdTimeout + 2 rounds + 5 s + 20 s for load: from n2 DOWN to the job's end took about 5 s on
# a quiet machine, up to 15 s at load 15-31 (measured end: 33-56 s).
round_s=$((slurmd_timeout / 3 > msg_timeout + 2 ? slurmd_timeout / 3 : msg_timeout + 2))
node_bound=$((slurmd_timeout + 2 * round_s + 25))
# Before the fault, under whatever load this machine has: no live node may have been set DOWN; the
# seconds slurmctld saw a live node not answering a ping or another RPC in time are reported.
no_resp=$(grep -c 'not responding' "$ctld_log" || true)
! grep -q 'setting DOWN' "$ctld_log" || fail "a live node was set DOWN: $(grep 'setting DOWN' "$ctld_log")"
if [ "$no_resp" -eq 0 ]; then
  say "no live node missed a ping or RPC so far"
else
  say "NOTE: live nodes missed RPCs ($no_resp s of 'not responding' in $ctld_log), none set DOWN"
fi

say "fault c: SIGKILL of everything on n2 (its slurmd, steps and rank)"
jid=$(submit_fault kill-node "--timeout-s 120")
arm kill-node "$jid"
n1_slurmd=$(cat "$LB_SLURM_DIR/run/slurmd-n1.pid")
t0=$(date +%s%3N)
mapfile -t victims < <(ns_pids "${node_ns[1]}")
kill -KILL "${victims[@]}"
say "killed on n2: ${victims[*]}"
st=$(wait_end "$jid" $((node_bound + 60))) || fail "job $jid still $st $((node_bound + 60)) s after n2 died"
ms=$(elapsed_ms "$t0")
case $st in NODE_FAIL | FAILED) ;; *) fail "job $jid ended $st, expected NODE_FAIL or FAILED" ;; esac
down=$(sed -n 's/^\[\([0-9-]*\)T\([0-9:.]*\)\] error: Nodes \(.*\) not responding, setting DOWN$/\1 \2 \3/p' "$ctld_log")
if [ -n "$down" ] && [ "$(echo "$down" | wc -l)" -eq 1 ] && [ "${down##* }" = n2 ]; then
  down_ms=$(($(date -d "${down% *}" +%s%3N) - t0))
  say "n2 set DOWN $((down_ms / 1000)).$(printf %03d $((down_ms % 1000))) s after the kill (SlurmdTimeout $slurmd_timeout)"
elif [ "$st" = NODE_FAIL ] || [ -n "$down" ]; then
  fail "job $jid ended $st; expected slurmctld to set n2 alone DOWN once, it logged: ${down:-nothing}"
fi
issue_bound=$((slurmd_timeout + 15))
if [ "$ms" -le $((issue_bound * 1000)) ]; then say "within the issue's bound of $issue_bound s"; else say "NOTE: over the issue's bound of $issue_bound s (see the comment above)"; fi
check_bound "job ended $st" "$ms" "$node_bound"
# n1_left: what runs on n1 besides its slurmd. (Not `ns_pids | grep -q`: under pipefail grep's early
# exit SIGPIPEs ns_pids at random, and the pipeline fails.)
n1_left() { ns_pids "${node_ns[0]}" | grep -vx "$n1_slurmd" | xargs -r ps -o pid=,comm= -p | paste -sd, - || true; }
t_end=$(date +%s%3N)
left=$(n1_left)
[ -z "$left" ] || say "at the job's end still on n1: $left"
until [ -z "$left" ]; do
  [ "$(elapsed_ms "$t_end")" -lt 15000 ] || fail "left running on n1 15 s after the job ended: $left"
  sleep 0.2
  left=$(n1_left)
done
say "nothing of the job left on n1 after $(elapsed_ms "$t0") ms"
say "n2 is $(sinfo -h -N -n n2 -o %T)"
python3 - "$work/results/kill-node/tiny_tp2_p2p0.h5.partial" <<'PY' || fail "the .partial file of the killed job is not readable"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    runs = sorted((str(g.attrs["variant"]), int(g.attrs["batch"])) for g in f["runs"].values())
    assert f.attrs["complete"] == 0 and len(runs) >= 1, runs
    print(f".partial after the node fault: complete=0, {len(runs)} run(s): {runs}")
PY
say "all checks passed in $(($(date +%s) - t_start)) s"
