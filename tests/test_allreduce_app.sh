#!/usr/bin/env bash
# ladder-allreduce end to end under mpirun -np 2: the nccl-tests-style sweep 8 B .. 64 MiB in both
# modes exits 0 with zero wrong elements (the exact check of every all-reduce is the assertion), as
# does --mode all (MPI_Allreduce itself beside them); the HDF5 file is a ladderbench file of kind
# "allreduce" with consistent datasets, the emulated link shows up in the times, and bad flags (the
# link's bounds and its time against --timeout-s included) fail fast with a message naming the flag.
# Usage: test_allreduce_app.sh <ladder-allreduce>
set -uo pipefail
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# --- the sweep ---
if timeout 240 mpirun --oversubscribe -np 2 "$bench" -b 8 -e 64M -f 2 -w 1 -n 3 --out "$tmp/ar.h5" >"$tmp/out" 2>"$tmp/err"; then
  echo "ok   sweep 8 B .. 64 MiB at np 2 exited 0"
else
  fail "sweep: exit code $?"; sed 's/^/    /' "$tmp/err" "$tmp/out"
fi
grep -q "^# Out of bounds values : 0 OK" "$tmp/out" || fail "sweep: no '# Out of bounds values : 0 OK' line"
rows=$(grep -cE '^ +[0-9]+ +[0-9]+ +float +sum ' "$tmp/out")
[ "$rows" -eq 24 ] || fail "sweep: $rows table rows, expected 24"
# Column 8 (blocking #wrong) and 12 (async #wrong) of every row are 0.
awk '/^ +[0-9]+ +[0-9]+ +float +sum / && ($8 != 0 || $12 != 0) { bad = 1 } END { exit bad }' "$tmp/out" \
  || fail "sweep: a row has non-zero #wrong"
python3 - "$tmp/ar.h5" <<'PY' || fail "sweep: results file"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert a["format"] == "ladderbench" and a["format_version"] == 1 and a["kind"] == "allreduce", dict(a)
assert a["complete"] == 1 and a["world_size"] == 2 and len(a["hostnames"]) == 2 and a["wrong_total"] == 0
for k in ("argv", "git_sha", "env", "versions", "backend", "link_emulated", "minbytes", "maxbytes", "iters"):
    assert k in a, k
sizes = 8 * 2 ** np.arange(24)
for mode in ("blocking", "async"):
    g = f["allreduce"][mode]
    assert (g["bytes"][:] == sizes).all() and (g["count"][:] == sizes // 4).all()
    assert (g["wrong"][:] == 0).all()
    t = g["time_s"][:]
    assert t.shape == (24, 3) and (t > 0).all()
    assert np.allclose(g["time_p50_s"][:], np.median(t, axis=1))
    assert np.allclose(g["time_min_s"][:], t.min(axis=1))
    assert (g["time_p95_s"][:] >= g["time_p50_s"][:]).all()
    assert np.allclose(g["algbw_Bps"][:], sizes / g["time_p50_s"][:])
    assert np.allclose(g["busbw_Bps"][:], g["algbw_Bps"][:])  # 2(n-1)/n = 1 at n = 2
ov = f["allreduce/async/overlap_pct"][:]
assert ((ov >= 0) & (ov <= 100)).all() and f["allreduce/async/overall_s"].shape == (24, 3)
print("ok   results file: kind allreduce, 2 modes x 24 sizes, 0 wrong, statistics consistent")
PY

# --- the emulated link is inside the measured all-reduce ---
if timeout 60 mpirun --oversubscribe -np 2 "$bench" -b 8 -e 4K -f 8 -w 1 -n 3 --mode blocking \
    --link-latency-us 2000 --out "$tmp/link.h5" >"$tmp/out" 2>"$tmp/err"; then
  python3 - "$tmp/link.h5" <<'PY' || fail "emulated link"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f.attrs["link_emulated"] == 1 and f.attrs["link_latency_us"] == 2000
t = f["allreduce/blocking/time_s"][:]
assert (t >= 2000e-6).all(), t
print("ok   emulated 2 ms link: every all-reduce took >= 2 ms")
PY
else
  fail "emulated link run: exit code $?"; sed 's/^/    /' "$tmp/err"
fi

# --- --mode all: the MPI library's own MPI_Allreduce beside the backend's two modes, all exact ---
if timeout 60 mpirun --oversubscribe -np 2 "$bench" -b 4K -e 64K -f 4 -w 1 -n 3 --mode all --out "$tmp/all.h5" \
    >"$tmp/out" 2>"$tmp/err"; then
  grep -q "^# Out of bounds values : 0 OK" "$tmp/out" || fail "mode all: no '# Out of bounds values : 0 OK' line"
  python3 - "$tmp/all.h5" <<'PY' || fail "mode all: results file"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert sorted(f["allreduce"]) == ["async", "blocking", "mpi"], list(f["allreduce"])
for mode in ("mpi", "blocking", "async"):
    g = f[f"allreduce/{mode}"]
    assert list(g["bytes"][:]) == [4096, 16384, 65536] and (g["wrong"][:] == 0).all() and (g["time_s"][:] > 0).all()
print(f"ok   --mode all: mpi, blocking and async at 3 sizes, 0 wrong (backend {f.attrs['backend']})")
PY
else
  fail "mode all: exit code $?"; sed 's/^/    /' "$tmp/err"
fi

# --- SIGTERM mid-sweep: stops after the size in progress, keeps every finished size ---
# A 5 ms emulated link makes each size take ~0.3 s (2 modes x (1 + 20) all-reduces).
mpirun --oversubscribe -np 2 "$bench" -b 8 -e 1M -f 2 -w 1 -n 20 --link-latency-us 5000 \
  --out "$tmp/term.h5" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do  # until two sizes are printed (the file then holds at least one)
  [ "$(grep -cE '^ +[0-9]+ +[0-9]+ +float +sum ' "$tmp/out" 2>/dev/null)" -ge 2 ] && break
  sleep 0.1
done
kill -TERM "$pid"
start=$SECONDS
wait "$pid"
rc=$?
# Three times in ~30 runs beside fuzz_parsers (once in CI), never alone, this folder was gone right
# after the SIGTERM; who removed it is not known yet. Say so, with what was running, instead of a cascade.
if [ ! -d "$tmp" ]; then
  echo "FAIL the test's own folder $tmp vanished during the SIGTERM step; processes at that moment:"
  ps -eo pid,ppid,pgid,etimes,args | sed 's/^/    /'
  exit 1
fi
if [ "$rc" -eq 0 ]; then fail "sigterm: exit code 0"; fi
[ $((SECONDS - start)) -le 10 ] || fail "sigterm: took $((SECONDS - start)) s to stop"
grep -q "stopped by SIGTERM after" "$tmp/err" || { fail "sigterm: no 'stopped by SIGTERM' message"; sed 's/^/    /' "$tmp/err"; }
python3 - "$tmp/term.h5.partial" <<'PY' || fail "sigterm: partial file"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f.attrs["complete"] == 0 and f.attrs["interrupted"] == "SIGTERM", dict(f.attrs)
n = len(f["allreduce/blocking/bytes"])
assert 2 <= n < 18, n
for mode in ("blocking", "async"):
    g = f[f"allreduce/{mode}"]
    assert len(g["bytes"]) == n and g["time_s"].shape == (n, 20) and (g["wrong"][:] == 0).all()
print(f"ok   SIGTERM mid-sweep: exit non-zero, .partial holds the {n} finished sizes of both modes")
PY

# --- bad flags ---
touch "$tmp/exists.h5"
expect_failure() {  # NAME EXPECTED_TEXT ARGS...
  local name=$1 expected=$2
  shift 2
  timeout 10 mpirun --oversubscribe -np 2 "$bench" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then fail "$name: exit code $rc (0 = accepted bad input, 124 = hung)"; return; fi
  if ! grep -qF -- "$expected" "$tmp/err"; then fail "$name: stderr does not say \"$expected\":"; sed 's/^/    /' "$tmp/err"; return; fi
  echo "ok   $name (exit $rc): $(grep -F -- "$expected" "$tmp/err" | head -1)"
}
expect_failure bad-suffix "found \"8X\"" -b 8X
expect_failure bad-maxbytes "--maxbytes" -e 1.5M
expect_failure min-above-max "is less than -b/--minbytes" -b 1M -e 8
expect_failure below-one-float "less than one float" -b 2
expect_failure stepfactor-1 "--stepfactor" -f 1
expect_failure bad-mode "--mode" --mode overlapped
expect_failure zero-iters "--iters" -n 0
expect_failure existing-file "file exists (pass --overwrite" --out "$tmp/exists.h5"
expect_failure latency-above-1s "--link-latency-us: must be" --link-latency-us 2e6
expect_failure bandwidth-1e-300 "--link-bandwidth-gbps: must be" --link-bandwidth-gbps 1e-300
# 1 MiB at 1 Mbit/s: 8.4 s on the emulated link alone.
expect_failure link-over-timeout "longer than --timeout-s 1" -b 8 -e 1M --link-bandwidth-gbps 0.001 --timeout-s 1

[ "$failures" -eq 0 ] && echo "all passed"
[ "$failures" -eq 0 ]
