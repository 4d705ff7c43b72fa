#!/usr/bin/env bash
# Acceptance: ladder-bench on checkpoints written by transformers' own save_pretrained
# (tests/fixtures/hf, made by make_fixtures.py; torch is not needed here) equals transformers:
# at each case's ranks (1, 2; 4 for one GQA case) the standard logits are within relative L2 1e-4
# of transformers' and the greedy tokens identical, and --eval-tokens' standard NLL within 1e-5
# (relative) of transformers' loss on the same windows; every variant equals the float64 numpy
# reference, tokens included. Refused cases must fail at every rank count with the message
# naming the key.
# Usage: test_hf_fixtures.sh <ladder-bench> <source dir>
set -euo pipefail
# shellcheck source=tests/support/app_test_env.sh
source "$(dirname "$0")/support/app_test_env.sh" "$@"
ref=$src/tests/reference

field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print(" ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v))' "$1" "$2"; }

cases=0
for dir in "$src"/tests/fixtures/hf/*/; do
  case=$(basename "$dir")
  refuse=$(field "$dir/case.json" refuse)
  gen_len=$(field "$dir/case.json" gen_len)
  for np in $(field "$dir/case.json" ranks); do
    out=$tmp/$case-np$np.h5
    args=(--model "$dir" --weights "$dir" --prompt-ids "$dir/prompt_ids.npy" --gen-len "$gen_len" --variant all
          --warmup 0 --reps 1 --save-logits --out "$out")
    [[ -f $dir/eval_tokens.npy ]] && args+=(--eval-tokens "$dir/eval_tokens.npy")
    if [[ -n $refuse ]]; then
      if mpirun --oversubscribe -np "$np" "$bench" "${args[@]}" >"$tmp/log" 2>&1; then
        echo "FAIL: $case np $np ran; it must be refused with: $refuse"; exit 1
      fi
      grep -qF -- "$refuse" "$tmp/log" || { echo "FAIL: $case np $np: message lacks '$refuse':"; cat "$tmp/log"; exit 1; }
      echo "$case np=$np refused: $(grep -F -- "$refuse" "$tmp/log" | head -1)"
      continue
    fi
    mpirun --oversubscribe -np "$np" "$bench" "${args[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "FAIL: $case np $np"; exit 1; }
    python3 "$ref/check_fixture.py" --fixture "$dir" --results "$out" --tol 1e-4
    python3 "$ref/check_logits.py" --checkpoint "$dir" --results "$out" --tol 1e-4 --tokens | sed "s/^/$case numpy-ref /"
  done
  cases=$((cases + 1))
done
# The text form of --prompt-ids (one prompt per line) gives the same run as the .npy; the text form
# of --eval-tokens (lines of any length, read one after the other) the same NLL.
dir=$src/tests/fixtures/hf/llama_gqa
python3 -c 'import sys, numpy as np; np.savetxt(sys.argv[2], np.load(sys.argv[1]), fmt="%d")' "$dir/prompt_ids.npy" "$tmp/ids.txt"
python3 -c 'import sys, numpy as np; s = np.load(sys.argv[1]).tolist(); open(sys.argv[2], "w").write("\n".join(" ".join(map(str, s[i:i + 13])) for i in range(0, len(s), 13)) + "\n")' \
  "$dir/eval_tokens.npy" "$tmp/eval.txt"
mpirun --oversubscribe -np 2 "$bench" --model "$dir" --weights "$dir" --prompt-ids "$tmp/ids.txt" --gen-len 4 --variant standard \
  --eval-tokens "$tmp/eval.txt" --warmup 0 --reps 1 --save-logits --out "$tmp/text.h5" >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "FAIL: text prompt ids"; exit 1; }
python3 "$ref/check_fixture.py" --fixture "$dir" --results "$tmp/text.h5" --tol 1e-4 | sed 's/^/text prompt ids: /'
[[ $cases -ge 10 ]] || { echo "FAIL: only $cases fixtures under tests/fixtures/hf"; exit 1; }
echo "all $cases fixtures pass"
