#!/usr/bin/env bash
# Issue #7's GPU checks on one GPU, in one go (a lent GPU machine's time is short):
#   1. the GPU unit tests (CUDA wrappers, NCCL at one rank, kernels, the model incl. CUDA-graph
#      replay = eager and bf16/fp16 weights vs fp32);
#   2. standard TP=1 logits of the 1B shape in bf16 vs the CPU build's fp32 logits (relative L2,
#      bound 2e-2), if a reference file is there (scripts/gpu/prepare-lease.sh makes it);
#   3. the TP=1 benchmark: Llama-3-8B and the 1B shape, batch 1 and 16, prompt 1024, gen 512, bf16
#      and fp16, with --roofline (the HBM ceiling is the STREAM triad measured in the same job), and
#      a table of decode step time vs that roofline (weights + KV bytes per step / bandwidth).
#
#   scripts/gpu/bench-tp1.sh [out-dir]        (default $OUT/gpu-tp1 where $OUT is set, else results/gpu-tp1)
#
# On a lent machine write straight under the device tool's $OUT (the default there): a call killed at
# its time limit still returns every file written so far. Every step is bounded by `timeout`
# (LB_STEP_TIMEOUT_S, default 240 s), so one hung step costs its bound, not the whole lease.
# A first, cheap call (minutes: is the build sound on this GPU at all?): LB_QUICK=1, which defaults to
# LB_MODELS=1b LB_DTYPES=bf16 LB_BATCHES=1 LB_REPS=1 LB_PROMPT=256 LB_GEN=64.
#
# Binaries: $LB_BIN if set; else a carried bundle (.gpu-carry/, unpacked from .gpu-carry.tar.xz
# when only that came along; scripts/gpu/bundle.sh); else build-cuda/bin.
# Knobs: LB_MODELS ("llama-3-8b 1b"), LB_DTYPES ("bf16 fp16"), LB_BATCHES (1,16), LB_PROMPT (1024),
# LB_GEN (512), LB_WARMUP (1), LB_REPS (3), LB_TESTS (1: run step 1), LB_LOGITS_DTYPE (bf16), LB_REF_LOGITS
# (.gpu-carry-ref/1b-standard-fp32-cpu.h5), LB_STEP_TIMEOUT_S (240), LB_QUICK (0).
# Exit status: non-zero if a test or check failed or timed out.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
default_out=$root/results/gpu-tp1
[ -n "${OUT:-}" ] && default_out=$OUT/gpu-tp1
out=${1:-$default_out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/bench-tp1.log
exec > >(tee -a "$log") 2>&1

if [ -z "${LB_BIN:-}" ]; then
  if [ ! -f "$root/.gpu-carry/env.sh" ] && [ -f "$root/.gpu-carry.tar.xz" ]; then
    (cd "$root" && { tar -xJf .gpu-carry.tar.xz 2>/dev/null || python3 -m tarfile -e .gpu-carry.tar.xz .; })
  fi
  if [ -f "$root/.gpu-carry/env.sh" ]; then
    # shellcheck source=/dev/null
    source "$root/.gpu-carry/env.sh"
    LB_BIN=$root/.gpu-carry/bin
  else
    LB_BIN=$root/build-cuda/bin
  fi
fi
[ -x "$LB_BIN/ladder-bench" ] || { echo "bench-tp1: no ladder-bench in $LB_BIN (build the cuda preset or carry a bundle)" >&2; exit 1; }
export LADDERBENCH_SOURCE_DIR=$root  # the tests' configs, wherever the checkout is here
if [ "${LB_QUICK:-0}" = 1 ]; then
  : "${LB_MODELS:=1b}" "${LB_DTYPES:=bf16}" "${LB_BATCHES:=1}" "${LB_REPS:=1}" "${LB_PROMPT:=256}" "${LB_GEN:=64}"
fi
models=${LB_MODELS:-llama-3-8b 1b}
dtypes=${LB_DTYPES:-bf16 fp16}
batches=${LB_BATCHES:-1,16}
prompt=${LB_PROMPT:-1024}
gen=${LB_GEN:-512}
step_timeout=${LB_STEP_TIMEOUT_S:-240}

# bounded <name> <command...>: runs one step under `timeout`; a step that runs out is named as such.
bounded() {
  local name=$1 rc
  shift
  timeout --kill-after=15 "$step_timeout" "$@"
  rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "bench-tp1: $name: timed out after ${step_timeout} s (LB_STEP_TIMEOUT_S)" >&2
    failed+=("$name-timeout")
  fi
  return "$rc"
}
ref=${LB_REF_LOGITS:-$root/.gpu-carry-ref/1b-standard-fp32-cpu.h5}
failed=()

echo "# bench-tp1 $(date -u +%FT%TZ) on $(hostname); binaries $LB_BIN; out $out"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem,driver_version --format=csv 2>/dev/null || true
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)

if [ "${LB_TESTS:-1}" = 1 ]; then
  echo "## 1. GPU unit tests"
  for t in test_cuda_wrappers test_cuda_nccl test_kernels test_model_tp; do
    echo "### $t"
    if bounded "$t" "$LB_BIN/$t" --gtest_brief=1 >"$out/$t.log" 2>&1; then tail -n 3 "$out/$t.log"; else
      cat "$out/$t.log"; failed+=("$t")
    fi
    if grep -q "SKIPPED \]" "$out/$t.log"; then
      grep -A1 ": Skipped" "$out/$t.log" | sort -u | head -n 10
      [ "$gpus" -gt 0 ] && failed+=("$t-skipped")  # a skip on a GPU machine is a failure
    fi
  done
fi

if [ -f "$ref" ]; then
  echo "## 2. TP=1 logits, 1B shape, bf16 on the GPU vs fp32 on the CPU build"
  args=$(python3 "$root/scripts/gpu/gpu_report.py" argv "$ref")
  # shellcheck disable=SC2086  # the reference's own flags, one word each
  if bounded logits "$LB_BIN/ladder-bench" $args --dtype "${LB_LOGITS_DTYPE:-bf16}" --save-logits --overwrite --out "$out/logits.h5"; then
    python3 "$root/scripts/gpu/gpu_report.py" logits "$ref" "$out/logits.h5" --tol 2e-2 || failed+=(logits)
  else
    failed+=(logits-run)
  fi
else
  echo "## 2. skipped: no CPU reference logits at $ref (scripts/gpu/prepare-lease.sh makes them)"
fi

echo "## 3. TP=1 benchmark: $models x $dtypes, batch $batches, prompt $prompt, gen $gen"
files=()
for model in $models; do
  for dtype in $dtypes; do
    f=$out/$model-$dtype-tp1.h5
    if bounded "bench-$model-$dtype" "$LB_BIN/ladder-bench" --model "$model" --dtype "$dtype" --variant standard --batch "$batches" \
        --prompt-len "$prompt" --gen-len "$gen" --warmup "${LB_WARMUP:-1}" --reps "${LB_REPS:-3}" --roofline \
        --overwrite --out "$f"; then
      files+=("$f")
    else
      failed+=("bench-$model-$dtype")
    fi
  done
done
[ ${#files[@]} -gt 0 ] && python3 "$root/scripts/gpu/gpu_report.py" table "${files[@]}" | tee "$out/roofline.md"

if [ ${#failed[@]} -gt 0 ]; then
  echo "bench-tp1: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "bench-tp1: all passed; results in $out"
