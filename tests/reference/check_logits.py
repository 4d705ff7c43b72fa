"""Checks the logits (and optionally the greedy tokens) stored by `ladder-bench --save-logits`
against the float64 reference in llama_ref.py, for a run on a Hugging Face checkpoint.

Usage:
  python3 tests/reference/check_logits.py --checkpoint DIR --results FILE.h5 [--tol 1e-4]
      [--ladder-layers N] [--tokens [--token-slack 1e-3]]

For every /runs/* group with a `logits` dataset the reference recomputes the prefill of the
group's `prompt` and compares the last-position logits by relative L2 error over the whole batch,
||ours - theirs|| / ||theirs||. Other variants are skipped. upper-bound is only checked at tp == 1: for tp > 1 its outputs are
meaningless by design (spec 4). Exit 0 if all checked runs pass, 1 if one fails or none had
logits, 2 if the results file cannot be read.
"""
import argparse
import sys

import h5py
import numpy as np

from llama_ref import VARIANTS, LlamaRef


def text(value):
    """HDF5 string attributes come back as str or bytes depending on how they were written."""
    return value.decode() if isinstance(value, (bytes, np.bytes_)) else str(value)


def tokens_ok(model, prompt, tokens, variant, ladder_layers, slack):
    """Whether each generated token is a greedy choice of the reference, up to near-ties.

    Teacher-forced: the reference runs on prompt + the app's own tokens, so one early near-tie
    cannot derail the rest of the comparison. A token is accepted when its reference logit is
    within `slack` * RMS(logits row) of the row's maximum. Returns (ok, number of bad tokens)."""
    seqs = np.concatenate([prompt, tokens[:, :-1]], axis=1)
    logits = model.logits(seqs, variant, ladder_layers, last_only=False)[:, prompt.shape[1] - 1:]
    chosen = np.take_along_axis(logits, tokens[..., None].astype(np.int64), axis=-1)[..., 0]
    gap = logits.max(axis=-1) - chosen
    bad = int(np.sum(gap > slack * np.sqrt(np.mean(logits**2, axis=-1))))
    return bad == 0, bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True, help="HF checkpoint directory the app ran on")
    ap.add_argument("--results", required=True, help="ladder-bench HDF5 results file")
    ap.add_argument("--tol", type=float, default=1e-4, help="max relative L2 error of the logits")
    ap.add_argument("--ladder-layers", type=int, help="hybrid-ladder N if a run has no ladder_layers attribute")
    ap.add_argument("--tokens", action="store_true", help="also check the generated `tokens` (greedy runs)")
    ap.add_argument("--token-slack", type=float, default=1e-3,
                    help="near-tie allowance for --tokens, in units of the logits' RMS")
    a = ap.parse_args(argv)

    try:
        f = h5py.File(a.results, "r")
    except OSError as e:
        print(f"error: cannot read results file {a.results}: {e}", file=sys.stderr)
        return 2
    with f:
        if text(f.attrs.get("format", "")) != "ladderbench" or int(f.attrs.get("format_version", 0)) > 1:
            print(f"error: {a.results} is not a ladderbench results file of format_version <= 1", file=sys.stderr)
            return 2
        model = LlamaRef.from_checkpoint(a.checkpoint)
        checked = failed = 0
        runs = f.get("runs", {})
        for rid in sorted(runs):
            g = runs[rid]
            variant, tp = text(g.attrs.get("variant", "")), int(g.attrs.get("tp", 1))
            if "logits" not in g:
                continue
            if variant not in VARIANTS:
                print(f"{rid} {variant:13s} SKIP (no reference for this variant)")
                continue
            if variant == "upper-bound" and tp != 1:
                print(f"{rid} {variant:13s} tp={tp} SKIP (upper-bound outputs are meaningless for tp > 1)")
                continue
            ladder_layers = int(g.attrs["ladder_layers"]) if "ladder_layers" in g.attrs else a.ladder_layers
            if variant == "hybrid-ladder" and ladder_layers is None:
                print(f"{rid} {variant:13s} FAIL (no ladder_layers attribute; pass --ladder-layers)")
                checked, failed = checked + 1, failed + 1
                continue
            prompt, theirs = g["prompt"][()], g["logits"][()].astype(np.float64)
            checked += 1
            try:
                ours = model.logits(prompt, variant, ladder_layers or 0)
            except ValueError as e:  # ladder_layers outside 0..L
                print(f"{rid} {variant:13s} FAIL ({e})")
                failed += 1
                continue
            if ours.shape != theirs.shape:
                print(f"{rid} {variant:13s} FAIL (logits shape {theirs.shape}, reference {ours.shape})")
                failed += 1
                continue
            rel = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
            ok = bool(rel <= a.tol)  # NaN or all-zero logits from the app fail here too
            line = f"{rid} {variant:13s} tp={tp} batch={prompt.shape[0]} rel_l2={rel:.3e}"
            if a.tokens and "tokens" in g:
                tok_ok, bad = tokens_ok(model, prompt, g["tokens"][()], variant, ladder_layers or 0, a.token_slack)
                ok = ok and tok_ok
                line += f" bad_tokens={bad}/{g['tokens'].size}"
            print(f"{line} {'PASS' if ok else 'FAIL'}")
            failed += not ok
        if checked == 0:
            print(f"FAIL: no run in {a.results} has a logits dataset (run ladder-bench with --save-logits)")
            return 1
        print(f"{checked - failed}/{checked} runs pass (tol {a.tol:g})")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
