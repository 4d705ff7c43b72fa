#!/usr/bin/env bash
# Bad input under mpirun -np 2: every case must exit non-zero within 10 s, with one message on
# stderr that names the problem, and leave no rank running.
# Usage: test_bad_input.sh <ladder-bench> <source dir>
set -uo pipefail
bench=$1
src=$2
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
tiny=$src/configs/models/tiny/config.json
fast=(--prompt-len 4 --gen-len 2 --warmup 0 --reps 1)
failures=0
cases=0

# expect_failure NAME EXPECTED_TEXT ARGS...
expect_failure() {
  local name=$1 expected=$2
  shift 2
  cases=$((cases + 1))
  local start=$SECONDS
  timeout 10 mpirun --oversubscribe -np 2 "$bench" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
    echo "FAIL $name: exit code $rc (0 = accepted bad input, 124 = hung)"; failures=$((failures + 1)); return
  fi
  if ! grep -qF -- "$expected" "$tmp/err"; then
    echo "FAIL $name: stderr does not say \"$expected\":"; sed 's/^/    /' "$tmp/err"; failures=$((failures + 1)); return
  fi
  # Every rank must be gone (allowing a moment for the last one to be reaped).
  local left=1
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pgrep -f "$bench .*$tmp" >/dev/null || { left=0; break; }
    sleep 0.3
  done
  if [ "$left" -eq 1 ]; then
    echo "FAIL $name: a rank is still running 3 s after mpirun returned"; failures=$((failures + 1)); return
  fi
  echo "ok   $name (exit $rc, ${took}s): $(grep -F -- "$expected" "$tmp/err" | head -1)"
}

mkdir -p "$tmp/model"
printf '{"hidden_size": 64, "num_hidden_layers": 2,' >"$tmp/model/config.json"
sed 's/"num_attention_heads": 8/"num_attention_heads": 6/; s/"num_key_value_heads": 4/"num_key_value_heads": 3/' "$tiny" \
  | sed 's/"hidden_size": 64/"hidden_size": 48/' >"$tmp/odd_heads.json"
# A directory this user cannot create files in: root ignores permission bits, but not procfs.
if [ "$(id -u)" -eq 0 ]; then readonly_dir=/proc/self; else readonly_dir=$tmp/readonly; mkdir -p "$readonly_dir"; chmod a-w "$readonly_dir"; fi
touch "$tmp/exists.h5"
printf '1 2 3\n4 5 200\n' >"$tmp/ids-vocab.txt"
printf '1 2 3\n4 5 6\n' >"$tmp/ids.txt"
sed 's/"vocab_size"/"attn_logit_softcapping": 50.0, "vocab_size"/' "$tiny" >"$tmp/softcap.json"

# Checkpoints: written by the independent reference writer, then broken in one way each.
ckpt() {  # ckpt DIR [--shards N]: a valid checkpoint of the tiny model's shape
  python3 "$src/tests/reference/hf_checkpoint.py" "$1" --hidden 64 --intermediate 128 --layers 2 --heads 8 \
    --kv-heads 4 --vocab 96 --dtype f32 "${@:2}" >/dev/null
}
ckpt "$tmp/ck-shard" --shards 2 && rm "$tmp/ck-shard/model-00002-of-00002.safetensors"
ckpt "$tmp/ck-trunc" && truncate -s -1000 "$tmp/ck-trunc/model.safetensors"
ckpt "$tmp/ck-header" && printf '\x01garbage' | dd of="$tmp/ck-header/model.safetensors" bs=1 seek=8 conv=notrunc 2>/dev/null
ckpt "$tmp/ck-dtype" && python3 - "$tmp/ck-dtype/model.safetensors" <<'PY'
import json, struct, sys
# Relabel one tensor as I8 with a matching byte size: a dtype the loader must refuse by name.
path = sys.argv[1]
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
t = header["model.norm.weight"]
t["dtype"], t["shape"] = "I8", [t["data_offsets"][1] - t["data_offsets"][0]]
text = json.dumps(header).encode().ljust(n)
open(path, "wb").write(raw[:8] + text + raw[8 + n:])
PY
ckpt "$tmp/ck-shape" && sed -i 's/"intermediate_size": 128/"intermediate_size": 64/' "$tmp/ck-shape/config.json"
sed 's/"hidden_size": 64/"hidden_size": 0/' "$tiny" >"$tmp/zero.json"
sed 's/"num_hidden_layers": 2/"num_hidden_layers": "two"/' "$tiny" >"$tmp/typed.json"

expect_failure missing-model "no such file, directory or model name" --model "$tmp/nope.json" --out "$tmp/a.h5" "${fast[@]}"
expect_failure malformed-json "malformed JSON" --model "$tmp/model" --out "$tmp/a.h5" "${fast[@]}"
expect_failure tp-not-dividing "must divide the heads" --model "$tmp/odd_heads.json" --out "$tmp/a.h5" "${fast[@]}"
expect_failure unknown-variant "unknown variant \"ladderr\"" --model "$tiny" --variant standard,ladderr --out "$tmp/a.h5" "${fast[@]}"
expect_failure unwritable-dir "is not writable" --model "$tiny" --out "$readonly_dir/a.h5" "${fast[@]}"
expect_failure missing-dir "does not exist" --model "$tiny" --out "$tmp/no/such/dir/a.h5" "${fast[@]}"
expect_failure existing-file "file exists (pass --overwrite" --model "$tiny" --out "$tmp/exists.h5" "${fast[@]}"
expect_failure missing-weights "not a directory" --model "$tiny" --weights "$tmp/no-ckpt" --out "$tmp/a.h5" "${fast[@]}"
expect_failure bad-batch "--batch" --model "$tiny" --batch 1,x --out "$tmp/a.h5" "${fast[@]}"
expect_failure zero-reps "--reps" --model "$tiny" --out "$tmp/a.h5" --prompt-len 4 --gen-len 2 --reps 0
expect_failure bad-dtype "--dtype" --model "$tiny" --dtype fp8 --out "$tmp/a.h5" "${fast[@]}"
expect_failure bad-desync-pattern "--desync-pattern" --model "$tiny" --variant desync --desync-pattern 8x --out "$tmp/a.h5" "${fast[@]}"
expect_failure unknown-flag "--bogus" --model "$tiny" --bogus --out "$tmp/a.h5" "${fast[@]}"
expect_failure zero-size "\"hidden_size\" must be > 0" --model "$tmp/zero.json" --out "$tmp/a.h5" "${fast[@]}"
expect_failure wrong-key-type "\"num_hidden_layers\" must be an integer" --model "$tmp/typed.json" --out "$tmp/a.h5" "${fast[@]}"
expect_failure missing-shard "model-00002-of-00002.safetensors is missing" --model "$tiny" --weights "$tmp/ck-shard" --out "$tmp/a.h5" "${fast[@]}"
expect_failure truncated-checkpoint "truncated" --model "$tiny" --weights "$tmp/ck-trunc" --out "$tmp/a.h5" "${fast[@]}"
expect_failure corrupt-header "corrupt safetensors header" --model "$tiny" --weights "$tmp/ck-header" --out "$tmp/a.h5" "${fast[@]}"
expect_failure wrong-dtype "unsupported dtype \"I8\"" --model "$tiny" --weights "$tmp/ck-dtype" --out "$tmp/a.h5" "${fast[@]}"
expect_failure wrong-shape "has shape [128, 64], the config needs [64, 64]" --model "$tmp/ck-shape" --weights "$tmp/ck-shape" --out "$tmp/a.h5" "${fast[@]}"
ckpt "$tmp/ck-tied" && sed -i 's/"tie_word_embeddings": false/"tie_word_embeddings": true/' "$tmp/ck-tied/config.json"
expect_failure unused-tensor "tensor lm_head.weight is not used by a llama model" --model "$tmp/ck-tied" --weights "$tmp/ck-tied" --out "$tmp/a.h5" "${fast[@]}"
expect_failure unknown-key "key \"attn_logit_softcapping\" is not supported" --model "$tmp/softcap.json" --out "$tmp/a.h5" "${fast[@]}"
expect_failure prompt-id-vocab "ids-vocab.txt line 2: token id 200 is outside the vocabulary [0, 96)" --model "$tiny" --prompt-ids "$tmp/ids-vocab.txt" --out "$tmp/a.h5" --gen-len 2 --warmup 0 --reps 1
expect_failure prompt-ids-len "--prompt-len does not match --prompt-ids" --model "$tiny" --prompt-ids "$tmp/ids.txt" --out "$tmp/a.h5" "${fast[@]}"
expect_failure prompt-ids-missing "--prompt-ids $tmp/none.txt: cannot read" --model "$tiny" --prompt-ids "$tmp/none.txt" --out "$tmp/a.h5" --gen-len 2
expect_failure negative-latency "--link-latency-us" --model "$tiny" --link-latency-us -5 --out "$tmp/a.h5" "${fast[@]}"
expect_failure ladder-layers "--ladder-layers 9 exceeds" --model "$tiny" --variant hybrid-ladder --ladder-layers 9 --out "$tmp/a.h5" "${fast[@]}"
expect_failure no-out "--out FILE.h5 is required" --model "$tiny" "${fast[@]}"
if ldd "$bench" | grep -q libhwy; then  # the CPU build's SIMD kernels (the GPU build has none to cap)
  LB_MAX_CPU_ISA=avx9 expect_failure max-cpu-isa "LB_MAX_CPU_ISA=avx9: not an instruction set this build knows; one of scalar" \
    --model "$tiny" --out "$tmp/a.h5" "${fast[@]}"
fi
expect_failure too-long "exceeds max_position_embeddings" --model "$tiny" --out "$tmp/a.h5" --prompt-len 250 --gen-len 10


# Flags refused up front (issue 18): impossible link parameters, an emulated all-reduce longer than
# the watchdog allows, malformed comma lists, a run that cannot fit in memory.
expect_failure latency-above-1s "--link-latency-us: must be a latency in us from 0 (off) to 1000000 (1 s), found \"6000000\"" \
  --model "$tiny" --link-latency-us 6000000 --timeout-s 3 --out "$tmp/a.h5" "${fast[@]}"
expect_failure latency-1e12 "--link-latency-us: must be" --model "$tiny" --link-latency-us 1e12 --out "$tmp/a.h5" "${fast[@]}"
expect_failure bandwidth-1e-300 "--link-bandwidth-gbps: must be a bandwidth in Gbit/s from 0.001 to 100000, or 0 (off), found \"1e-300\"" \
  --model "$tiny" --link-bandwidth-gbps 1e-300 --out "$tmp/a.h5" "${fast[@]}"
expect_failure bandwidth-inf "--link-bandwidth-gbps: must be" --model "$tiny" --link-bandwidth-gbps inf --out "$tmp/a.h5" "${fast[@]}"
expect_failure timeout-nan "--timeout-s: must be" --model "$tiny" --timeout-s nan --out "$tmp/a.h5" "${fast[@]}"
expect_failure link-over-timeout "take 0.9 s on the emulated link alone, longer than --timeout-s 0.5" \
  --model "$tiny" --link-latency-us 900000 --timeout-s 0.5 --out "$tmp/a.h5" "${fast[@]}"
expect_failure batch-empty-element "--batch: empty element in the comma list \"1,,2\"" --model "$tiny" --batch 1,,2 --out "$tmp/a.h5" "${fast[@]}"
expect_failure batch-trailing-comma "--batch: empty element" --model "$tiny" --batch 1, --out "$tmp/a.h5" "${fast[@]}"
expect_failure batch-repeated "\"2\" is listed twice in \"2,2\"" --model "$tiny" --batch 2,2 --out "$tmp/a.h5" "${fast[@]}"
expect_failure variant-trailing-comma "--variant: empty element" --model "$tiny" --variant standard, --out "$tmp/a.h5" "${fast[@]}"
expect_failure out-of-memory "GiB per rank (weights" --model demo-cpu --batch 100000 --prompt-len 1024 --gen-len 2 --warmup 0 --reps 1 \
  --out "$tmp/a.h5"

# A results file another process is writing: HDF5's own lock, held by h5py as a running job would.
python3 -c 'import h5py, sys, time; f = h5py.File(sys.argv[1], "w"); open(sys.argv[2], "w").close(); time.sleep(60)' \
  "$tmp/held.h5.partial" "$tmp/held.ready" &
holder=$!
for _ in $(seq 100); do [ -e "$tmp/held.ready" ] && break; sleep 0.1; done
expect_failure out-held-by-another-job "$tmp/held.h5.partial is locked by another process" --model "$tiny" --out "$tmp/held.h5" "${fast[@]}"
kill "$holder"
wait "$holder" 2>/dev/null

echo "$((cases - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
