#!/usr/bin/env bash
# The lease kit (scripts/gpu/bench-tp1.sh) against stand-in binaries: with $OUT set it writes under
# $OUT/gpu-tp1 by default (a call stopped at the device tool's limit still returns its files),
# LB_QUICK=1 makes the first call cheap (1B, bf16, batch 1, short generation), and a step that
# hangs is stopped by LB_STEP_TIMEOUT_S and named, the script going on to the end.
# Usage: test_gpu_lease_kit.sh <source dir>
set -uo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/bin
mkdir -p "$bin" "$tmp/out"
for t in test_cuda_wrappers test_cuda_nccl test_kernels test_model_tp; do
  printf '#!/usr/bin/env bash\necho "[  PASSED  ] 1 test."\n' >"$bin/$t"
done
# The app hangs (a GPU run that never finishes), after noting how it was called.
printf '#!/usr/bin/env bash\necho "$*" >>"%s/app-args"\nsleep 60\n' "$tmp" >"$bin/ladder-bench"
chmod +x "$bin"/*

start=$(date +%s)
OUT=$tmp/out LB_BIN=$bin LB_QUICK=1 LB_STEP_TIMEOUT_S=2 LB_REF_LOGITS=$tmp/none.h5 \
  bash "$src/scripts/gpu/bench-tp1.sh" >"$tmp/console" 2>&1
rc=$?
took=$(($(date +%s) - start))
fail() { cat "$tmp/console"; echo "FAIL: $*" >&2; exit 1; }
[ "$rc" -ne 0 ] || fail "a timed-out step must fail the run"
[ "$took" -lt 40 ] || fail "took ${took} s: the hung step was not bounded"
[ -f "$tmp/out/gpu-tp1/bench-tp1.log" ] || fail "no log under \$OUT/gpu-tp1"
[ -f "$tmp/out/gpu-tp1/test_kernels.log" ] || fail "no test log under \$OUT/gpu-tp1"
grep -q "bench-1b-bf16: timed out after 2 s" "$tmp/out/gpu-tp1/bench-tp1.log" || fail "the timeout is not named"
grep -q "FAILED: .*bench-1b-bf16-timeout" "$tmp/out/gpu-tp1/bench-tp1.log" || fail "the summary does not name the timeout"
args=$(cat "$tmp/app-args")
for want in "--model 1b" "--dtype bf16" "--batch 1 " "--prompt-len 256" "--gen-len 64" "--reps 1"; do
  [[ "$args" == *"$want"* ]] || fail "LB_QUICK=1: the app was not called with $want: $args"
done
[ "$(wc -l <"$tmp/app-args")" -eq 1 ] || fail "LB_QUICK=1 must run one model and dtype: $args"
echo "ok: bounded in ${took} s, results under \$OUT/gpu-tp1, quick call: $args"
