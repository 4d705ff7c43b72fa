#!/usr/bin/env bash
# The cartesian sweep of ladder-bench (llama-bench style) at np 2: --batch, --prompt-len and
# --gen-len lists give one run per (batch, prompt_len, gen_len, variant), each with its own cell's
# attributes, prompt and generated tokens; --plan prints one plan per cell.
# Usage: test_sweep.sh <ladder-bench> <source dir>
set -euo pipefail
# shellcheck source=tests/support/app_test_env.sh
source "$(dirname "$0")/support/app_test_env.sh" "$@"

timeout 120 mpirun --oversubscribe -np 2 "$bench" --model "$src/configs/models/tiny" --variant standard,ladder \
  --batch 1,2 --prompt-len 8,16 --gen-len 4,6 --warmup 0 --reps 2 --out "$tmp/sweep.h5" >"$tmp/log"
python3 - "$tmp/sweep.h5" <<'PY'
import itertools, sys
import h5py
with h5py.File(sys.argv[1]) as f:
    runs = [f["runs"][k] for k in sorted(f["runs"])]
    cells = [(int(r.attrs["batch"]), int(r.attrs["prompt_len"]), int(r.attrs["gen_len"]), r.attrs["variant"]) for r in runs]
    expect = [(b, p, g, v) for b, p, g in itertools.product([1, 2], [8, 16], [4, 6]) for v in ("standard", "ladder")]
    assert cells == expect, cells
    for r, (b, p, g, _) in zip(runs, cells):
        assert r["prompt"].shape == (b, p) and r["tokens"].shape == (b, g), (r.name, r["prompt"].shape, r["tokens"].shape)
        assert r["decode_step_s"].shape == (2, g - 1), r.name
print(f"ok   sweep: {len(cells)} runs, one per (batch, prompt_len, gen_len, variant)")
PY
rows=$(grep -cE '^ +[12] +(8|16) +(4|6)  (standard|ladder) ' "$tmp/log")
[ "$rows" -eq 16 ] || { echo "FAIL sweep: $rows table rows, expected 16"; cat "$tmp/log"; exit 1; }
plans=$("$bench" --plan --model "$src/configs/models/tiny" --tp 2 --batch 1,4 --prompt-len 8,16 --gen-len 4 | grep -c '^# plan')
[ "$plans" -eq 4 ] || { echo "FAIL plan sweep: $plans plans, expected 4"; exit 1; }
echo "ok   plan: one plan per cell"
