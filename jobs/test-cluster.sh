# shellcheck shell=bash
# jobs/test-cluster.sh — what the Slurm CI tests share: a private local cluster in a temp dir
# (scripts/slurm-local.sh on free ports), torn down on exit whatever happens, with the check that
# nothing of it is left running (by PID, by the cluster's paths, by slurmstepd, by UTS namespace).
# Sourced, never run. The test sets `tname` (its name in messages) before sourcing, then calls
#   tc_prerequisites; tc_start_cluster NODES
# and finds: $work (temp dir), $root (checkout), $LB_BIN, is_complete FILE, bg_run CMD..., say, fail.
# LB_TEST_KEEP=1 keeps the temp dir (it is always kept when the test fails).

: "${tname:?the test sets tname before sourcing jobs/test-cluster.sh}"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
t_start=$(date +%s)
say() { echo "${tname}[$(($(date +%s) - t_start))s]: $*"; }
fail() { echo "$tname: FAIL: $*" >&2; exit 1; }

tc_prerequisites() {
  export LB_BIN=${LB_BIN:-$root/build/bin/ladder-bench}
  [ -x "$LB_BIN" ] || fail "$LB_BIN not built (cmake --preset cpu && cmake --build build)"
  local b
  for b in sbatch srun squeue scontrol slurmctld slurmd munged unshare; do
    command -v "$b" >/dev/null 2>&1 || fail "$b not installed (scripts/setup.sh installs slurm-wlm munge)"
  done
  command -v h5dump >/dev/null 2>&1 || python3 -c 'import h5py' 2>/dev/null \
    || fail "neither h5dump (hdf5-tools) nor python3 h5py available to read the results"
}

# is_complete FILE: the results file says complete=1.
is_complete() {
  if command -v h5dump >/dev/null 2>&1; then
    h5dump -a /complete "$1" 2>/dev/null | grep -Eq '\(0\): *1\b'
  else
    python3 -c 'import sys,h5py; sys.exit(0 if int(h5py.File(sys.argv[1],"r").attrs["complete"])==1 else 1)' "$1"
  fi
}

work=$(mktemp -d "/tmp/lb-$tname.XXXXXX")
export LB_SLURM_DIR=$work/slurm LB_RESULTS_ROOT=$work/results
# sbatch --wait polls every 2 s only when MinJobAge <= 4 (otherwise 8 s, then 32 s): keep CI quick.
export LB_SLURM_MIN_JOB_AGE=${LB_SLURM_MIN_JOB_AGE:-4}
export SLURM_CONF=$LB_SLURM_DIR/slurm.conf
daemon_pids=()
node_ns=() # the UTS namespaces of a multi-node cluster's slurmds ("uts:[inode]")
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

# cluster_stepds: this cluster's slurmstepd processes. A slurmstepd's command line names no path,
# but it inherits its slurmd's environment, and slurm-local.sh exports SLURM_CONF (other clusters on
# this machine, e.g. another checkout's test, have their own).
cluster_stepds() {
  local p env
  for p in $(pgrep -x slurmstepd); do
    env=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null) || continue
    ! grep -qxF "SLURM_CONF=$SLURM_CONF" <<<"$env" || echo "$p"
  done
}

# ns_pids NS: the processes in UTS namespace NS (the namespace exists while one is left).
ns_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/uts" 2>/dev/null)" != "$1" ] || echo "${p#/proc/}"
  done
}

exec 3>&1 4>&2 # the cleanup reports here even when it interrupts a redirected command
tc_cleanup() {
  local rc=$? pid left ns i leftovers=0
  set +e
  trap - EXIT
  exec 1>&3 2>&4
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    say "interrupted: stopping child $child"
    kill -TERM "$child" 2>/dev/null
  fi
  say "stopping the local cluster"
  timeout 120 scripts/slurm-local.sh stop || { echo "$tname: FAIL: slurm-local.sh stop" >&2; rc=1; }
  for pid in "${daemon_pids[@]}"; do
    if [ -d "/proc/$pid" ]; then echo "$tname: FAIL: daemon pid $pid still alive" >&2; leftovers=1; fi
  done
  left=$(pgrep -f -- "$LB_SLURM_DIR/" || true)
  if [ -n "$left" ]; then echo "$tname: FAIL: processes of this cluster left: $left" >&2; leftovers=1; fi
  # A cancelled step's slurmstepd may take a few seconds after its slurmd to finish: wait (bounded).
  for ((i = 0; i < 75; i++)); do
    left=$(cluster_stepds)
    [ -n "$left" ] || break
    sleep 0.2
  done
  if [ -n "$left" ]; then echo "$tname: FAIL: slurmstepd left: $left" >&2; leftovers=1; fi
  for ns in "${node_ns[@]}"; do
    left=$(ns_pids "$ns")
    if [ -n "$left" ]; then echo "$tname: FAIL: processes left in node namespace $ns: $left" >&2; leftovers=1; fi
  done
  if [ $leftovers -eq 0 ]; then say "no slurm daemon, step or node namespace left"; elif [ $rc -eq 0 ]; then rc=1; fi
  if [ "${LB_TEST_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    say "kept $work (logs: $LB_SLURM_DIR/log, $LB_RESULTS_ROOT/*/logs)"
  else
    rm -rf "$work"
  fi
  if [ $rc -eq 0 ]; then say "PASS"; else echo "$tname: FAILED (rc=$rc)" >&2; fi
  exit $rc
}
trap tc_cleanup EXIT
trap 'exit 130' INT TERM

# tc_start_cluster NODES: a private cluster of NODES nodes on free ports (slurmctld + one per node).
tc_start_cluster() {
  local nodes=$1 p i k ok port=
  port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
  for ((p = 16817 + RANDOM % 200 * 4, i = 0; i < 50; i++, p += nodes + 1)); do
    ok=1
    for ((k = 0; k <= nodes; k++)); do port_free "$((p + k))" || ok=0; done
    if [ $ok -eq 1 ]; then port=$p; break; fi
  done
  [ -n "$port" ] || fail "no $((nodes + 1)) free ports found for slurmctld/slurmd"
  export LB_SLURM_PORT=$port
  local t0=$SECONDS
  timeout 120 scripts/slurm-local.sh start --nodes "$nodes" || fail "local Slurm did not start"
  local f
  for f in "$LB_SLURM_DIR/munge/munged.pid" "$LB_SLURM_DIR/run/slurmctld.pid" "$LB_SLURM_DIR"/run/slurmd-*.pid; do
    daemon_pids+=("$(cat "$f")")
  done
  if [ "$nodes" -gt 1 ]; then
    for ((k = 1; k <= nodes; k++)); do
      node_ns+=("$(readlink "/proc/$(cat "$LB_SLURM_DIR/run/slurmd-n$k.pid")/ns/uts")")
    done
  fi
  say "cluster of $nodes node(s) up in $((SECONDS - t0)) s (port $port, daemons ${daemon_pids[*]})"
}
