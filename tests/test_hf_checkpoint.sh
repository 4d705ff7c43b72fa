#!/usr/bin/env bash
# Acceptance: ladder-bench on a Hugging Face checkpoint (BF16 sharded with an index; F32 in one
# file; F32 with Llama-3.1 RoPE scaling) at np 1 and 2 writes the v1 layout, and the logits of
# every variant equal an independent float64 numpy implementation of the spec (tests/reference/)
# within relative L2 1e-4.
# Usage: test_hf_checkpoint.sh <ladder-bench> <source dir>
set -euo pipefail
# shellcheck source=tests/support/app_test_env.sh
source "$(dirname "$0")/support/app_test_env.sh" "$@"

# name dtype shards extra-args; the scaled one uses a short original context (16) so that the
# scaling changes the angles at the prompt's positions.
for spec in "bf16 bf16 3" "f32 f32 1" "llama3 f32 1 --rope-scaling-llama3 8,1,4,16"; do
  read -r name dtype shards extra <<<"$spec"
  ckpt=$tmp/ckpt-$name
  # shellcheck disable=SC2086
  python3 "$src/tests/reference/hf_checkpoint.py" "$ckpt" --hidden 64 --intermediate 128 --layers 3 --heads 8 \
    --kv-heads 4 --vocab 96 --dtype "$dtype" --shards "$shards" --seed 5 --rope-theta 500000 $extra
  for np in 1 2; do
    out=$tmp/x-$name-np$np.h5
    mpirun --oversubscribe -np "$np" "$bench" --model "$ckpt" --weights "$ckpt" --variant all --batch 2 \
      --prompt-len 7 --gen-len 3 --warmup 0 --reps 1 --save-logits --out "$out" >/dev/null
    # The v1 layout: root attributes and one group per variant with every dataset.
    python3 - "$out" "$np" <<'PY'
import sys, h5py
path, np_ = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "ladderbench" and f.attrs["format_version"] == 1 and f.attrs["complete"] == 1
    for key in ["created_utc", "git_sha", "argv", "world_size", "hostnames", "link_emulated", "comm_transports"]:
        assert key in f.attrs, key
    assert f.attrs["world_size"] == np_ and len(f.attrs["hostnames"]) == np_ and len(f.attrs["comm_transports"]) == np_
    variants = sorted(g.attrs["variant"] for g in f["runs"].values())
    assert variants == ["hybrid-ladder", "ladder", "parallel", "standard", "upper-bound"], variants
    for g in f["runs"].values():
        assert g["prefill_s"].shape == (1,) and g["decode_s"].shape == (1,) and g["tokens_per_s"].shape == (1,)
        assert g["prompt"].shape == (2, 7) and g["tokens"].shape == (2, 3) and g["logits"].shape == (2, 96)
        assert g.attrs["tp"] == np_ and g.attrs["batch"] == 2
print(f"layout ok: {path}")
PY
    python3 "$src/tests/reference/check_logits.py" --checkpoint "$ckpt" --results "$out" --tol 1e-4
  done
done
